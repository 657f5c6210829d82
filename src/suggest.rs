//! Least privilege from what ran: the smallest identity policy that allows every request
//! and decision a principal made, read from a decision log (`swf-iam suggest`).
//!
//! Each decision-log line names the caller, the action, the exact resource the gate
//! authorized (a domain ARN, `.../domain/*` for `ListDomains`, or `*`) and the request's
//! `swf:` condition keys (`swf_keys`). A principal's lines become one statement per
//! resource with its actions sorted; with `generalize`, resources that differ only in
//! region or account become one with `*` there; with `with_conditions`, each action is
//! limited to the `swf:` key values its requests carried. The document is checked as IAM
//! checks a managed policy and split where it would pass the 6,144-character quota.

use crate::eval::Principal;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

/// The `swf:` condition keys one request carried: key (as the gate names it) → value.
pub type Keys = BTreeMap<String, String>;

/// What a principal did with one action on one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// How many decisions the log holds.
    pub count: usize,
    /// The distinct sets of single-valued `swf:` keys those requests carried (lines with
    /// `swf_keys`).
    pub contexts: BTreeSet<Keys>,
    /// Keys that were multivalued in some request: never made a condition.
    pub multivalued: BTreeSet<String>,
    /// Decisions whose line has no `swf_keys` (a log written before swf-iam logged them):
    /// what they carried is unknown, so the action gets no condition.
    pub unknown: usize,
}

impl Seen {
    fn merge(&mut self, other: &Seen) {
        self.count += other.count;
        self.contexts.extend(other.contexts.iter().cloned());
        self.multivalued.extend(other.multivalued.iter().cloned());
        self.unknown += other.unknown;
    }
}

/// What one principal did, from a decision log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Resource → action → what its requests carried.
    pub by_resource: BTreeMap<String, BTreeMap<String, Seen>>,
    /// How many decisions the log holds for the principal.
    pub requests: usize,
}

impl Observed {
    /// Records one decision of `action` on `resource` with the request's `swf:` keys
    /// (`None`: not logged).
    pub fn record(&mut self, resource: &str, action: &str, keys: Option<&Map<String, Value>>) {
        self.requests += 1;
        let seen = self
            .by_resource
            .entry(resource.to_owned())
            .or_default()
            .entry(action.to_owned())
            .or_default();
        seen.count += 1;
        let Some(keys) = keys else {
            seen.unknown += 1;
            return;
        };
        let mut one = Keys::new();
        for (k, v) in keys {
            match v {
                Value::String(s) => {
                    one.insert(k.clone(), s.clone());
                }
                _ => {
                    seen.multivalued.insert(k.clone());
                }
            }
        }
        seen.contexts.insert(one);
    }
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
/// allowed or denied (the workload asked for it), of every principal, with its request's
/// `swf:` keys. Refusals (bad signatures, unknown keys) decide nothing and are skipped;
/// so are other log lines.
pub fn read_log(reader: impl BufRead) -> std::io::Result<Log> {
    use std::borrow::Cow;
    /// The fields of a log line `suggest` reads (others are skipped unread).
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        message: Option<Cow<'a, str>>,
        #[serde(borrow)]
        principal: Option<Cow<'a, str>>,
        #[serde(borrow)]
        action: Option<Cow<'a, str>>,
        #[serde(borrow)]
        resource: Option<Cow<'a, str>>,
        #[serde(borrow)]
        decision: Option<Cow<'a, str>>,
        #[serde(borrow)]
        swf_keys: Option<Cow<'a, str>>,
    }
    let mut log = Log::default();
    // Caller as logged → identity ARN (a role session's role): sessions repeat.
    let mut identities: std::collections::HashMap<String, String> = Default::default();
    let mut line = String::new();
    let mut reader = reader;
    let mut i = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        i += 1;
        log.lines += 1;
        let Ok(v) = serde_json::from_str::<Line>(line.trim_end()) else {
            continue;
        };
        if v.message.as_deref() != Some("decision") {
            continue;
        }
        let (Some(caller), Some(action), Some(resource), Some(decision)) =
            (v.principal, v.action, v.resource, v.decision)
        else {
            log.unreadable.push(format!(
                "line {i}: a decision without principal, action, resource or decision"
            ));
            continue;
        };
        if !matches!(&*decision, "allowed" | "explicitDeny" | "implicitDeny") {
            continue;
        }
        let keys = match v.swf_keys.as_deref().map(serde_json::from_str::<Value>) {
            None => None,
            Some(Ok(Value::Object(m))) => Some(m),
            Some(_) => {
                log.unreadable.push(format!(
                    "line {i}: `swf_keys` is not a JSON object of condition keys"
                ));
                continue;
            }
        };
        let arn = match identities.get(&*caller) {
            Some(a) => a.clone(),
            None => match Principal::from_arn(&caller, "swf-iam", None) {
                Ok(p) => {
                    identities.insert(caller.into_owned(), p.arn.clone());
                    p.arn
                }
                Err(e) => {
                    log.unreadable.push(format!("line {i}: {e}"));
                    continue;
                }
            },
        };
        log.principals
            .entry(arn)
            .or_default()
            .record(&resource, &action, keys.as_ref());
    }
    Ok(log)
}

type Actions = BTreeMap<String, Seen>;

fn merge_into(into: &mut Actions, from: &Actions) {
    for (a, seen) in from {
        into.entry(a.clone()).or_default().merge(seen);
    }
}

/// `resources` with region and account replaced by `*` where the principal used the
/// same domain in several.
fn generalized(resources: &BTreeMap<String, Actions>) -> BTreeMap<String, Actions> {
    // (partition, service, resource part) → regions, accounts, actions.
    type Group = (BTreeSet<String>, BTreeSet<String>, Actions);
    let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    let mut out: BTreeMap<String, Actions> = BTreeMap::new();
    for (r, actions) in resources {
        let f: Vec<&str> = r.splitn(6, ':').collect();
        match f.as_slice() {
            ["arn", partition, service, region, account, rest] => {
                let g = groups
                    .entry(((*partition).into(), (*service).into(), (*rest).into()))
                    .or_default();
                g.0.insert((*region).into());
                g.1.insert((*account).into());
                merge_into(&mut g.2, actions);
            }
            _ => merge_into(out.entry(r.clone()).or_default(), actions),
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
        merge_into(out.entry(arn).or_default(), &actions);
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

/// How to suggest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// One resource for a domain used in several regions or accounts (`*` there).
    pub generalize: bool,
    /// Limit each action to the `swf:` key values its requests carried.
    pub with_conditions: bool,
}

/// A suggestion: the policy documents, and what the reader should know about them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suggestion {
    /// The documents (more than one where one would pass the managed-policy quota).
    pub documents: Vec<Value>,
    /// Where the suggestion is broader than what ran, and why.
    pub notes: Vec<String>,
}

/// The condition block limiting an action to what its requests carried: `StringEquals`
/// on each key every request carried, `StringEqualsIfExists` on keys only some did (a
/// request without the key still matches, as the log's did). `None` when nothing can be
/// said (no key, or requests whose keys were not logged).
fn condition_of(seen: &Seen) -> Option<Value> {
    if seen.unknown > 0 || seen.contexts.is_empty() {
        return None;
    }
    let mut values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for ctx in &seen.contexts {
        for (k, v) in ctx {
            if !seen.multivalued.contains(k) {
                values.entry(k).or_default().insert(v);
            }
        }
    }
    if values.is_empty() {
        return None;
    }
    let mut equals = Map::new();
    let mut if_exists = Map::new();
    for (k, vs) in values {
        let v = match vs.iter().next() {
            Some(one) if vs.len() == 1 => json!(one),
            _ => json!(vs),
        };
        if seen.contexts.iter().all(|c| c.contains_key(k)) {
            equals.insert(k.to_owned(), v);
        } else {
            if_exists.insert(k.to_owned(), v);
        }
    }
    let mut cond = Map::new();
    if !equals.is_empty() {
        cond.insert("StringEquals".into(), Value::Object(equals));
    }
    if !if_exists.is_empty() {
        cond.insert("StringEqualsIfExists".into(), Value::Object(if_exists));
    }
    Some(Value::Object(cond))
}

/// A document's size as IAM counts it for the quota (without whitespace).
fn size(v: &Value) -> usize {
    v.to_string().chars().filter(|c| !c.is_whitespace()).count()
}

fn document(statements: &[Value]) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The smallest policy for what `o` did: one statement per resource (with conditions,
/// one per distinct condition block on it), actions sorted, stable Sids; split into
/// several documents where one would pass the managed-policy quota.
pub fn suggest(o: &Observed, opts: Options) -> Suggestion {
    let resources = if opts.generalize {
        generalized(&o.by_resource)
    } else {
        o.by_resource.clone()
    };
    let mut notes = Vec::new();
    let mut taken = BTreeSet::new();
    let mut statements: Vec<Value> = Vec::new();
    for (r, actions) in &resources {
        // Condition block (or none) → actions; statements in a stable order.
        let mut groups: BTreeMap<Option<String>, (Option<Value>, BTreeSet<&str>)> = BTreeMap::new();
        for (action, seen) in actions {
            let cond = if opts.with_conditions {
                if seen.unknown > 0 {
                    notes.push(format!(
                        "{action} on {r}: {} of its {} log lines carry no swf_keys (a log written before they were logged): no condition",
                        seen.unknown, seen.count
                    ));
                }
                condition_of(seen)
            } else {
                None
            };
            let g = groups
                .entry(cond.as_ref().map(Value::to_string))
                .or_insert_with(|| (cond, BTreeSet::new()));
            g.1.insert(action);
        }
        for (cond, actions) in groups.into_values() {
            let mut st = json!({
                "Sid": sid_of(r, &mut taken),
                "Effect": "Allow",
                "Action": actions.iter().collect::<Vec<_>>(),
                "Resource": r,
            });
            if let Some(c) = cond {
                st["Condition"] = c;
                if size(&document(std::slice::from_ref(&st))) > MAX_POLICY_CHARS {
                    notes.push(format!(
                        "{} on {r}: the key values the log holds pass one policy's 6,144 characters: no condition",
                        st["Action"]
                    ));
                    if let Some(m) = st.as_object_mut() {
                        m.remove("Condition");
                    }
                }
            }
            statements.push(st);
        }
    }
    let mut docs: Vec<Vec<Value>> = vec![Vec::new()];
    for st in statements {
        let last = docs.len() - 1;
        let mut trial = docs[last].clone();
        trial.push(st.clone());
        if docs[last].is_empty() || size(&document(&trial)) <= MAX_POLICY_CHARS {
            docs[last] = trial;
        } else {
            docs.push(vec![st]);
        }
    }
    Suggestion {
        documents: docs.iter().map(|sts| document(sts)).collect(),
        notes,
    }
}

/// A policy document as a Terraform `aws_iam_policy_document` data block named `name`.
pub fn terraform(name: &str, doc: &Value) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let list = |v: &Value| -> String {
        let items: Vec<String> = match v {
            Value::Array(a) => a.iter().filter_map(Value::as_str).map(q).collect(),
            Value::String(s) => vec![q(s)],
            _ => Vec::new(),
        };
        format!("[{}]", items.join(", "))
    };
    let mut out = format!("data \"aws_iam_policy_document\" {} {{\n", q(name));
    for st in doc["Statement"].as_array().into_iter().flatten() {
        out.push_str("  statement {\n");
        if let Some(sid) = st["Sid"].as_str() {
            out.push_str(&format!("    sid       = {}\n", q(sid)));
        }
        out.push_str("    effect    = \"Allow\"\n");
        out.push_str(&format!("    actions   = {}\n", list(&st["Action"])));
        out.push_str(&format!("    resources = {}\n", list(&st["Resource"])));
        for (test, keys) in st["Condition"].as_object().into_iter().flatten() {
            for (variable, values) in keys.as_object().into_iter().flatten() {
                out.push_str("\n    condition {\n");
                out.push_str(&format!("      test     = {}\n", q(test)));
                out.push_str(&format!("      variable = {}\n", q(variable)));
                out.push_str(&format!("      values   = {}\n", list(values)));
                out.push_str("    }\n");
            }
        }
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
        let docs = suggest(w, Options::default()).documents;
        assert_eq!(docs.len(), 1);
        assert_eq!(
            docs[0],
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "DomainOrders", "Effect": "Allow", "Action": ["swf:RecordActivityTaskHeartbeat"], "Resource": "arn:aws:swf:eu-west-1:123456789012:/domain/orders"},
                {"Sid": "DomainOrders2", "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat"], "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}
            ]})
        );
        let general = suggest(
            w,
            Options {
                generalize: true,
                ..Options::default()
            },
        )
        .documents;
        assert_eq!(
            general[0]["Statement"],
            json!([{"Sid": "DomainOrders", "Effect": "Allow", "Action": ["swf:PollForActivityTask", "swf:RecordActivityTaskHeartbeat"], "Resource": "arn:aws:swf:*:123456789012:/domain/orders"}])
        );
        let ops = suggest(
            &log.principals["arn:aws:iam::123456789012:user/ops"],
            Options::default(),
        )
        .documents;
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
            o.record(
                &format!("arn:aws:swf:us-east-1:123456789012:/domain/domain-number-{i}"),
                "swf:RecordActivityTaskHeartbeat",
                Some(&Map::new()),
            );
        }
        let docs = suggest(&o, Options::default()).documents;
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

    fn keys(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect()
    }

    const ORDERS: &str = "arn:aws:swf:us-east-1:123456789012:/domain/orders";

    #[test]
    fn with_conditions_each_action_is_limited_to_the_key_values_it_carried() {
        let mut o = Observed::default();
        let sched = |name: &str, tl: Option<&str>| {
            let mut k = keys(&[
                ("swf:activityType.name", name),
                ("swf:activityType.version", "1"),
            ]);
            if let Some(tl) = tl {
                k.insert("swf:taskList.name".into(), json!(tl));
            }
            k
        };
        o.record(
            ORDERS,
            "swf:ScheduleActivityTask",
            Some(&sched("hb", Some("workers"))),
        );
        o.record(
            ORDERS,
            "swf:ScheduleActivityTask",
            Some(&sched("charge", None)),
        );
        o.record(
            ORDERS,
            "swf:ScheduleActivityTask",
            Some(&sched("hb", Some("workers"))),
        );
        o.record(
            ORDERS,
            "swf:PollForActivityTask",
            Some(&keys(&[("swf:taskList.name", "workers")])),
        );
        o.record(ORDERS, "swf:RecordActivityTaskHeartbeat", Some(&Map::new()));
        o.record(
            ORDERS,
            "swf:RespondActivityTaskCompleted",
            Some(&Map::new()),
        );
        let s = suggest(
            &o,
            Options {
                with_conditions: true,
                ..Options::default()
            },
        );
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        assert_eq!(s.documents.len(), 1);
        assert_eq!(
            s.documents[0]["Statement"],
            json!([
                {"Sid": "DomainOrders", "Effect": "Allow",
                 "Action": ["swf:RecordActivityTaskHeartbeat", "swf:RespondActivityTaskCompleted"],
                 "Resource": ORDERS},
                {"Sid": "DomainOrders2", "Effect": "Allow", "Action": ["swf:ScheduleActivityTask"],
                 "Resource": ORDERS,
                 "Condition": {
                     "StringEquals": {"swf:activityType.name": ["charge", "hb"], "swf:activityType.version": "1"},
                     "StringEqualsIfExists": {"swf:taskList.name": "workers"}}},
                {"Sid": "DomainOrders3", "Effect": "Allow", "Action": ["swf:PollForActivityTask"],
                 "Resource": ORDERS,
                 "Condition": {"StringEquals": {"swf:taskList.name": "workers"}}}
            ])
        );
        let r = crate::validate(
            "s.json",
            s.documents[0].to_string().as_bytes(),
            &crate::validate::PolicyKind::Managed,
        );
        assert!(r.iam_valid(), "{:?}", r.iam_message());
        // Without the flag, the same log gives one unconditioned statement.
        let plain = suggest(&o, Options::default());
        assert_eq!(plain.documents[0]["Statement"].as_array().unwrap().len(), 1);
        assert!(plain.documents[0]["Statement"][0]
            .get("Condition")
            .is_none());
        // The HCL carries the conditions as condition blocks.
        let tf = terraform("op", &s.documents[0]);
        assert!(
            tf.contains("    condition {\n      test     = \"StringEqualsIfExists\"\n      variable = \"swf:taskList.name\"\n      values   = [\"workers\"]\n    }\n"),
            "{tf}"
        );
        assert!(
            tf.contains("      values   = [\"charge\", \"hb\"]\n"),
            "{tf}"
        );
    }

    #[test]
    fn with_conditions_the_suggestion_decides_as_the_log_did() {
        // Every logged key set is allowed; a value the log never held is not.
        let mut o = Observed::default();
        o.record(
            ORDERS,
            "swf:ScheduleActivityTask",
            Some(&keys(&[
                ("swf:activityType.name", "hb"),
                ("swf:taskList.name", "workers"),
            ])),
        );
        o.record(
            ORDERS,
            "swf:ScheduleActivityTask",
            Some(&keys(&[("swf:activityType.name", "charge")])),
        );
        let s = suggest(
            &o,
            Options {
                with_conditions: true,
                ..Options::default()
            },
        );
        let set = crate::compile::CompiledPolicySet::compile(&crate::compile::PolicySet {
            identity: vec![crate::compile::LoadedPolicy::load(
                "s.json",
                s.documents[0].to_string().as_bytes(),
                &crate::validate::PolicyKind::Managed,
            )
            .unwrap()],
            ..Default::default()
        })
        .unwrap();
        let principal =
            Principal::from_arn("arn:aws:iam::123456789012:role/op", "s", None).unwrap();
        let decide = |pairs: &[(&str, &str)]| {
            let mut ctx = crate::eval::Context::new();
            for (k, v) in pairs {
                ctx.set_single(k, *v);
            }
            crate::eval::evaluate(
                &set,
                &crate::eval::Request {
                    principal: &principal,
                    action: "swf:ScheduleActivityTask",
                    resource: ORDERS,
                    context: &ctx,
                },
            )
            .is_allowed()
        };
        assert!(decide(&[
            ("swf:activityType.name", "hb"),
            ("swf:taskList.name", "workers")
        ]));
        assert!(decide(&[("swf:activityType.name", "charge")]));
        assert!(!decide(&[("swf:activityType.name", "refund")]));
        assert!(!decide(&[
            ("swf:activityType.name", "hb"),
            ("swf:taskList.name", "other")
        ]));
        assert!(!decide(&[]));
    }

    #[test]
    fn with_conditions_an_unknown_or_oversized_key_set_gets_no_condition_and_a_note() {
        let mut o = Observed::default();
        o.record(ORDERS, "swf:StartWorkflowExecution", None);
        o.record(
            ORDERS,
            "swf:StartWorkflowExecution",
            Some(&keys(&[("swf:workflowType.name", "wf")])),
        );
        let big: Vec<String> = (0..600).map(|i| format!("activity-type-{i:04}")).collect();
        for name in &big {
            o.record(
                ORDERS,
                "swf:ScheduleActivityTask",
                Some(&keys(&[("swf:activityType.name", name)])),
            );
        }
        let s = suggest(
            &o,
            Options {
                with_conditions: true,
                ..Options::default()
            },
        );
        assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
        assert!(s.notes[0].contains("carry no swf_keys"), "{}", s.notes[0]);
        assert!(s.notes[1].contains("6,144 characters"), "{}", s.notes[1]);
        assert_eq!(s.documents.len(), 1);
        for st in s.documents[0]["Statement"].as_array().unwrap() {
            assert!(st.get("Condition").is_none(), "{st}");
        }
    }

    #[test]
    fn a_bad_swf_keys_field_fails_that_line_only() {
        let log = read_log(
            concat!(
                r#"{"message":"decision","principal":"arn:aws:iam::123456789012:user/a","action":"swf:ListDomains","resource":"*","decision":"allowed","swf_keys":"[1]"}"#,
                "\n",
                r#"{"message":"decision","principal":"arn:aws:iam::123456789012:user/a","action":"swf:ListDomains","resource":"*","decision":"allowed","swf_keys":"{}"}"#,
                "\n"
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(log.unreadable.len(), 1);
        assert!(log.unreadable[0].starts_with("line 1:"));
        assert_eq!(
            log.principals["arn:aws:iam::123456789012:user/a"].requests,
            1
        );
    }
}
