//! Least privilege from what ran: the smallest identity policy that allows every request
//! and decision a principal made, read from a decision log (`swf-iam suggest`).
//!
//! Each decision-log line names the caller, the action and the exact resource the gate
//! authorized (a domain ARN, `.../domain/*` for `ListDomains`, or `*`). A principal's
//! lines become one statement per resource with its actions sorted; with `generalize`,
//! resources that differ only in region or account become one with `*` there. The
//! document is checked as IAM checks a managed policy and split where it would pass the
//! 6,144-character quota.

use crate::eval::Principal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

/// What one principal did, from a decision log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Resource → actions requested on it.
    pub by_resource: BTreeMap<String, BTreeSet<String>>,
    /// How many decisions the log holds for the principal.
    pub requests: usize,
}

/// What a decision log says, by principal (the identity's ARN: a role session's role).
#[derive(Debug, Clone, Default)]
pub struct Log {
    /// Principal ARN → what it did.
    pub principals: BTreeMap<String, Observed>,
    /// Lines that are decisions but could not be read (with their line numbers).
    pub unreadable: Vec<String>,
    /// Lines read.
    pub lines: usize,
}

/// Reads a decision log (JSON lines as `serve` and `proxy` write them): every decision,
/// allowed or denied (the workload asked for it), of every principal. Refusals (bad
/// signatures, unknown keys) decide nothing and are skipped; so are other log lines.
pub fn read_log(reader: impl BufRead) -> std::io::Result<Log> {
    let mut log = Log::default();
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        log.lines += 1;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if v.get("message").and_then(Value::as_str) != Some("decision") {
            continue;
        }
        let field = |k: &str| v.get(k).and_then(Value::as_str);
        let (Some(caller), Some(action), Some(resource), Some(decision)) = (
            field("principal"),
            field("action"),
            field("resource"),
            field("decision"),
        ) else {
            log.unreadable.push(format!(
                "line {}: a decision without principal, action, resource or decision",
                i + 1
            ));
            continue;
        };
        if !matches!(decision, "allowed" | "explicitDeny" | "implicitDeny") {
            continue;
        }
        let arn = match Principal::from_arn(caller, "swf-iam", None) {
            Ok(p) => p.arn,
            Err(e) => {
                log.unreadable.push(format!("line {}: {e}", i + 1));
                continue;
            }
        };
        let o = log.principals.entry(arn).or_default();
        o.requests += 1;
        o.by_resource
            .entry(resource.to_owned())
            .or_default()
            .insert(action.to_owned());
    }
    Ok(log)
}

/// `resource` with region and account replaced by `*` where `generalize` asks and the
/// principal used the same domain in several.
fn generalized(
    resources: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    // (partition, service, resource part) → regions, accounts, actions.
    type Group = (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>);
    let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (r, actions) in resources {
        let f: Vec<&str> = r.splitn(6, ':').collect();
        match f.as_slice() {
            ["arn", partition, service, region, account, rest] => {
                let g = groups
                    .entry(((*partition).into(), (*service).into(), (*rest).into()))
                    .or_default();
                g.0.insert((*region).into());
                g.1.insert((*account).into());
                g.2.extend(actions.iter().cloned());
            }
            _ => out
                .entry(r.clone())
                .or_default()
                .extend(actions.iter().cloned()),
        }
    }
    for ((partition, service, rest), (regions, accounts, actions)) in groups {
        let one = |s: &BTreeSet<String>| {
            if s.len() == 1 {
                s.iter().next().cloned().unwrap_or_default()
            } else {
                "*".to_owned()
            }
        };
        let arn = format!(
            "arn:{partition}:{service}:{}:{}:{rest}",
            one(&regions),
            one(&accounts)
        );
        out.entry(arn).or_default().extend(actions);
    }
    out
}

/// A statement ID from a resource: letters and digits only, unique within `taken`.
fn sid_of(resource: &str, taken: &mut BTreeSet<String>) -> String {
    let base: String = match resource.rsplit_once("/domain/") {
        Some((_, "*")) => "AllDomains".to_owned(),
        Some((_, d)) => {
            let name: String = d
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let mut cs = w.chars();
                    cs.next()
                        .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                        .unwrap_or_default()
                })
                .collect();
            format!("Domain{name}")
        }
        None if resource == "*" => "NoResource".to_owned(),
        None => "Resource".to_owned(),
    };
    let mut sid = base.clone();
    let mut n = 2;
    while !taken.insert(sid.clone()) {
        sid = format!("{base}{n}");
        n += 1;
    }
    sid
}

/// The quota a suggestion keeps within (a customer managed policy, without whitespace).
pub const MAX_POLICY_CHARS: usize = 6144;

/// The smallest policy for what `o` did: one statement per resource, actions sorted,
/// stable Sids; split into several documents where one would pass the managed-policy
/// quota.
pub fn suggest(o: &Observed, generalize: bool) -> Vec<Value> {
    let resources = if generalize {
        generalized(&o.by_resource)
    } else {
        o.by_resource.clone()
    };
    let mut taken = BTreeSet::new();
    let statements: Vec<Value> = resources
        .iter()
        .map(|(r, actions)| {
            json!({
                "Sid": sid_of(r, &mut taken),
                "Effect": "Allow",
                "Action": actions.iter().collect::<Vec<_>>(),
                "Resource": r,
            })
        })
        .collect();
    let doc = |sts: &[Value]| json!({"Version": "2012-10-17", "Statement": sts});
    let size = |v: &Value| v.to_string().chars().filter(|c| !c.is_whitespace()).count();
    let mut docs: Vec<Vec<Value>> = vec![Vec::new()];
    for st in statements {
        let last = docs.len() - 1;
        let mut trial = docs[last].clone();
        trial.push(st.clone());
        if docs[last].is_empty() || size(&doc(&trial)) <= MAX_POLICY_CHARS {
            docs[last] = trial;
        } else {
            docs.push(vec![st]);
        }
    }
    docs.iter().map(|sts| doc(sts)).collect()
}

/// A policy document as a Terraform `aws_iam_policy_document` data block named `name`.
pub fn terraform(name: &str, doc: &Value) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = format!("data \"aws_iam_policy_document\" {} {{\n", q(name));
    for st in doc["Statement"].as_array().into_iter().flatten() {
        out.push_str("  statement {\n");
        if let Some(sid) = st["Sid"].as_str() {
            out.push_str(&format!("    sid       = {}\n", q(sid)));
        }
        out.push_str("    effect    = \"Allow\"\n");
        let actions: Vec<String> = st["Action"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(q)
            .collect();
        out.push_str(&format!("    actions   = [{}]\n", actions.join(", ")));
        out.push_str(&format!(
            "    resources = [{}]\n",
            q(st["Resource"].as_str().unwrap_or("*"))
        ));
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"{"timestamp":"t","level":"INFO","message":"decision","principal":"arn:aws:sts::123456789012:assumed-role/worker/s1","operation":"PollForActivityTask","action":"swf:PollForActivityTask","resource":"arn:aws:swf:us-east-1:123456789012:/domain/orders","decision":"allowed"}
{"timestamp":"t","level":"INFO","message":"decision","principal":"arn:aws:sts::123456789012:assumed-role/worker/s2","operation":"RecordActivityTaskHeartbeat","action":"swf:RecordActivityTaskHeartbeat","resource":"arn:aws:swf:us-east-1:123456789012:/domain/orders","decision":"allowed"}
{"timestamp":"t","level":"INFO","message":"decision","principal":"arn:aws:sts::123456789012:assumed-role/worker/s1","operation":"RecordActivityTaskHeartbeat","action":"swf:RecordActivityTaskHeartbeat","resource":"arn:aws:swf:eu-west-1:123456789012:/domain/orders","decision":"implicitDeny"}
{"timestamp":"t","level":"INFO","message":"refused","operation":"ListDomains","decision":"refused","error":"InvalidSignatureException"}
{"timestamp":"t","level":"INFO","message":"decision","principal":"arn:aws:iam::123456789012:user/ops","operation":"ListDomains","action":"swf:ListDomains","resource":"arn:aws:swf:us-east-1:123456789012:/domain/*","decision":"allowed"}
not json at all
"#;

    #[test]
    fn a_log_becomes_one_statement_per_resource() {
        let log = read_log(LOG.as_bytes()).unwrap();
        assert_eq!(log.principals.len(), 2);
        let w = &log.principals["arn:aws:iam::123456789012:role/worker"];
        assert_eq!(w.requests, 3);
        let docs = suggest(w, false);
        assert_eq!(docs.len(), 1);
        assert_eq!(
            docs[0],
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "DomainOrders", "Effect": "Allow", "Action": ["swf:RecordActivityTaskHeartbeat"], "Resource": "arn:aws:swf:eu-west-1:123456789012:/domain/orders"},
                {"Sid": "DomainOrders2", "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat"], "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}
            ]})
        );
        let general = suggest(w, true);
        assert_eq!(
            general[0]["Statement"],
            json!([{"Sid": "DomainOrders", "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat"], "Resource": "arn:aws:swf:*:123456789012:/domain/orders"}])
        );
        let ops = suggest(&log.principals["arn:aws:iam::123456789012:user/ops"], false);
        assert_eq!(ops[0]["Statement"][0]["Sid"], "AllDomains");
        // Every suggestion is a policy IAM accepts.
        for d in docs.iter().chain(&general).chain(&ops) {
            let r = crate::validate(
                "s.json",
                d.to_string().as_bytes(),
                &crate::validate::PolicyKind::Managed,
            );
            assert!(r.iam_valid(), "{d}");
        }
        let tf = terraform("worker", &general[0]);
        assert!(tf.starts_with("data \"aws_iam_policy_document\" \"worker\" {\n  statement {\n    sid       = \"DomainOrders\"\n"), "{tf}");
    }

    #[test]
    fn large_suggestions_are_split_within_the_quota() {
        let mut o = Observed::default();
        for i in 0..200 {
            o.by_resource
                .entry(format!(
                    "arn:aws:swf:us-east-1:123456789012:/domain/domain-number-{i}"
                ))
                .or_default()
                .insert("swf:RecordActivityTaskHeartbeat".into());
        }
        let docs = suggest(&o, false);
        assert!(docs.len() > 1);
        let total: usize = docs
            .iter()
            .map(|d| d["Statement"].as_array().unwrap().len())
            .sum();
        assert_eq!(total, 200);
        for d in &docs {
            let r = crate::validate(
                "s.json",
                d.to_string().as_bytes(),
                &crate::validate::PolicyKind::Managed,
            );
            assert!(r.iam_valid(), "{:?}", r.iam_message());
        }
    }
}
