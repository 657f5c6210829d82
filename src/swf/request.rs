//! From an SWF call (operation + JSON body) to what IAM authorizes: the action, where the
//! domain comes from, and the action-specific condition keys (`swf.md` §2).

use super::catalog::{self, DomainSource, SwfAction};
use super::wire::WireError;
use serde_json::{Map, Value};

/// The `X-Amz-Target` prefix of SWF.
pub const TARGET_PREFIX: &str = "SimpleWorkflowService.";

/// The API operation an `X-Amz-Target` names (decision pseudo-actions are not operations).
pub fn operation(target: Option<&str>) -> Result<&'static SwfAction, WireError> {
    let Some(target) = target else {
        return Err(WireError::UnknownOperation(
            "Missing X-Amz-Target header".into(),
        ));
    };
    let Some(name) = target.strip_prefix(TARGET_PREFIX) else {
        return Err(WireError::UnknownOperation(format!(
            "Unknown target `{target}`"
        )));
    };
    catalog::ACTIONS
        .iter()
        .find(|a| !a.decision && a.name == name)
        .ok_or_else(|| WireError::UnknownOperation(format!("Unknown operation `{name}`")))
}

/// Parses a request body: a JSON object (an empty body counts as `{}`).
pub fn body(bytes: &[u8]) -> Result<Map<String, Value>, WireError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(WireError::Serialization(format!(
            "Expected a JSON object as the request body, found {}",
            match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        ))),
        Err(e) => Err(WireError::Serialization(format!(
            "Request body is not valid JSON: {e}"
        ))),
    }
}

/// A string member, or an error naming it (`SerializationException` for a wrong type).
fn string_member<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, WireError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(WireError::Serialization(format!(
            "Member `{name}` must be a string"
        ))),
    }
}

/// The ValidationException of a missing required member, in moto's wording.
pub fn missing(member: &str) -> WireError {
    WireError::Validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// Where a call's domain is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef<'a> {
    /// Named in the body.
    Named(&'a str),
    /// The domain of the task that this token names.
    TaskToken(&'a str),
    /// The action has no resource: authorize against `*`.
    None,
}

/// Finds the domain of a call (`swf.md` §2.3). Required members that are missing are
/// `ValidationException`s.
pub fn domain_ref<'a>(
    action: &SwfAction,
    body: &'a Map<String, Value>,
) -> Result<DomainRef<'a>, WireError> {
    match action.domain {
        DomainSource::DomainField => string_member(body, "domain")?
            .map(DomainRef::Named)
            .ok_or_else(|| missing("domain")),
        DomainSource::NameField | DomainSource::NewDomain => string_member(body, "name")?
            .map(DomainRef::Named)
            .ok_or_else(|| missing("name")),
        DomainSource::ResourceArn => {
            let arn = string_member(body, "resourceArn")?.ok_or_else(|| missing("resourceArn"))?;
            match arn.split_once(":/domain/") {
                Some((_, d)) if !d.is_empty() => Ok(DomainRef::Named(d)),
                _ => Err(WireError::Validation(format!(
                    "Invalid resourceArn `{arn}`: not an SWF domain ARN"
                ))),
            }
        }
        DomainSource::TaskToken | DomainSource::DecisionTask => {
            let t = string_member(body, "taskToken")?.ok_or_else(|| missing("taskToken"))?;
            let len = t.chars().count();
            if !(1..=1024).contains(&len) {
                return Err(WireError::Validation(format!(
                    "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 1024 (length {len})"
                )));
            }
            Ok(DomainRef::TaskToken(t))
        }
        DomainSource::AllDomains => Ok(DomainRef::Named("*")),
        DomainSource::None => Ok(DomainRef::None),
    }
}

/// The value of `swf:` condition key `key` in `attrs` (a request body or decision
/// attributes): `swf:a.b` ← `attrs.a.b`, `swf:tagList.member.N` ← `attrs.tagList[N]`,
/// `swf:workflowTypeVersion` ← `attrs.workflowType.version`. Absent if the member is.
pub fn swf_key_value(key: &str, attrs: &Map<String, Value>) -> Option<String> {
    let path = key.strip_prefix("swf:")?;
    if let Some(n) = path.strip_prefix("tagList.member.") {
        let i: usize = n.parse().ok()?;
        return attrs
            .get("tagList")?
            .as_array()?
            .get(i)?
            .as_str()
            .map(str::to_owned);
    }
    // ContinueAsNewWorkflowExecution carries `workflowTypeVersion`; swf.md §3.2 maps it to
    // both `swf:workflowTypeVersion` and `swf:workflowType.version`.
    if path == "workflowTypeVersion"
        || (path == "workflowType.version" && !attrs.contains_key("workflowType"))
    {
        if let Some(v) = attrs.get("workflowTypeVersion").and_then(Value::as_str) {
            return Some(v.to_owned());
        }
    }
    let path = if path == "workflowTypeVersion" {
        "workflowType.version"
    } else {
        path
    };
    let mut cur = attrs;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        let v = cur.get(p)?;
        if parts.peek().is_none() {
            return v.as_str().map(str::to_owned);
        }
        cur = v.as_object()?;
    }
    None
}

/// The action-specific condition keys of a call (or decision), from its attributes:
/// every `swf:` key of the catalog entry that the attributes carry, and
/// `aws:RequestTag/*` / `aws:TagKeys` from `tags` / `tagKeys` where the action has them.
pub fn condition_keys(action: &SwfAction, attrs: &Map<String, Value>) -> Vec<(String, KeyValue)> {
    let mut out = Vec::new();
    for k in action.keys {
        if k.starts_with("swf:") {
            if let Some(v) = swf_key_value(k, attrs) {
                out.push(((*k).to_owned(), KeyValue::Single(v)));
            }
        }
    }
    let has = |name: &str| action.keys.contains(&name);
    if has("aws:RequestTag/${TagKey}") {
        if let Some(tags) = attrs.get("tags").and_then(Value::as_array) {
            let mut keys = Vec::new();
            for t in tags {
                if let Some(k) = t.get("key").and_then(Value::as_str) {
                    let v = t.get("value").and_then(Value::as_str).unwrap_or("");
                    out.push((
                        format!("aws:RequestTag/{k}"),
                        KeyValue::Single(v.to_owned()),
                    ));
                    keys.push(k.to_owned());
                }
            }
            if has("aws:TagKeys") {
                out.push(("aws:TagKeys".into(), KeyValue::Multi(keys)));
            }
        }
    } else if has("aws:TagKeys") {
        if let Some(keys) = attrs.get("tagKeys").and_then(Value::as_array) {
            let keys = keys
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            out.push(("aws:TagKeys".into(), KeyValue::Multi(keys)));
        }
    }
    out
}

/// A condition key's value taken from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    /// One value.
    Single(String),
    /// Several values.
    Multi(Vec<String>),
}

/// The member that holds the attributes of a decision or an event: `name` with its
/// first letter lower-cased, then `suffix` (`scheduleActivityTask` + `DecisionAttributes`).
pub fn member_key(name: &str, suffix: &str) -> String {
    let mut k = String::with_capacity(name.len() + suffix.len());
    let mut chars = name.chars();
    if let Some(c) = chars.next() {
        k.extend(c.to_lowercase());
    }
    k.push_str(chars.as_str());
    k.push_str(suffix);
    k
}

/// The member of a decision that holds its attributes:
/// `scheduleActivityTaskDecisionAttributes` for `ScheduleActivityTask`.
pub fn attrs_key(decision_type: &str) -> String {
    member_key(decision_type, "DecisionAttributes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn operations() {
        assert_eq!(
            operation(Some("SimpleWorkflowService.RecordActivityTaskHeartbeat"))
                .unwrap()
                .name,
            "RecordActivityTaskHeartbeat"
        );
        assert!(matches!(
            operation(None),
            Err(WireError::UnknownOperation(_))
        ));
        assert!(matches!(
            operation(Some("SimpleWorkflowService.ScheduleActivityTask")),
            Err(WireError::UnknownOperation(_))
        ));
        assert!(matches!(
            operation(Some("AmazonSQS.SendMessage")),
            Err(WireError::UnknownOperation(_))
        ));
        assert!(matches!(
            operation(Some("SimpleWorkflowService.recordactivitytaskheartbeat")),
            Err(WireError::UnknownOperation(_))
        ));
    }

    #[test]
    fn bodies() {
        assert!(body(b"").unwrap().is_empty());
        assert!(body(b"{}").unwrap().is_empty());
        assert!(matches!(body(b"[]"), Err(WireError::Serialization(_))));
        assert!(matches!(body(b"{"), Err(WireError::Serialization(_))));
    }

    #[test]
    fn domains() {
        let hb = catalog::action("RecordActivityTaskHeartbeat").unwrap();
        let b = obj(json!({"taskToken": "t1", "details": "50%"}));
        assert_eq!(domain_ref(hb, &b).unwrap(), DomainRef::TaskToken("t1"));
        assert!(matches!(
            domain_ref(hb, &obj(json!({}))),
            Err(WireError::Validation(_))
        ));
        let long = "x".repeat(1025);
        assert!(matches!(
            domain_ref(hb, &obj(json!({"taskToken": long}))),
            Err(WireError::Validation(_))
        ));
        let poll = catalog::action("PollForActivityTask").unwrap();
        assert_eq!(
            domain_ref(poll, &obj(json!({"domain": "orders"}))).unwrap(),
            DomainRef::Named("orders")
        );
        assert!(matches!(
            domain_ref(poll, &obj(json!({"domain": 3}))),
            Err(WireError::Serialization(_))
        ));
        let tag = catalog::action("TagResource").unwrap();
        assert_eq!(
            domain_ref(
                tag,
                &obj(json!({"resourceArn": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}))
            )
            .unwrap(),
            DomainRef::Named("orders")
        );
        let describe = catalog::action("DescribeDomain").unwrap();
        assert_eq!(
            domain_ref(describe, &obj(json!({"name": "orders"}))).unwrap(),
            DomainRef::Named("orders")
        );
        assert_eq!(
            domain_ref(catalog::action("ListDomains").unwrap(), &obj(json!({}))).unwrap(),
            DomainRef::Named("*")
        );
        assert_eq!(
            domain_ref(
                catalog::action("RegisterDomain").unwrap(),
                &obj(json!({"name": "new"}))
            )
            .unwrap(),
            DomainRef::Named("new")
        );
    }

    #[test]
    fn keys_come_only_from_present_members() {
        let start = catalog::action("StartWorkflowExecution").unwrap();
        let b = obj(
            json!({"domain": "d", "workflowType": {"name": "wf", "version": "1"}, "tagList": ["a", "b"]}),
        );
        let keys = condition_keys(start, &b);
        assert!(keys.contains(&("swf:tagList.member.0".into(), KeyValue::Single("a".into()))));
        assert!(keys.contains(&("swf:tagList.member.1".into(), KeyValue::Single("b".into()))));
        assert!(!keys.iter().any(|(k, _)| k == "swf:tagList.member.2"));
        assert!(
            !keys.iter().any(|(k, _)| k == "swf:taskList.name"),
            "no default substitution"
        );
        assert!(keys.contains(&(
            "swf:workflowType.version".into(),
            KeyValue::Single("1".into())
        )));
        let hb = catalog::action("RecordActivityTaskHeartbeat").unwrap();
        assert!(condition_keys(
            hb,
            &obj(json!({"taskToken": "t", "taskList": {"name": "x"}}))
        )
        .is_empty());
        let reg = catalog::action("RegisterDomain").unwrap();
        let keys = condition_keys(
            reg,
            &obj(json!({"name": "d", "tags": [{"key": "team", "value": "o"}, {"key": "env"}]})),
        );
        assert!(keys.contains(&("aws:RequestTag/team".into(), KeyValue::Single("o".into()))));
        assert!(keys.contains(&(
            "aws:TagKeys".into(),
            KeyValue::Multi(vec!["team".into(), "env".into()])
        )));
        let untag = catalog::action("UntagResource").unwrap();
        let keys = condition_keys(
            untag,
            &obj(json!({"resourceArn": "a", "tagKeys": ["team"]})),
        );
        assert_eq!(
            keys,
            vec![("aws:TagKeys".into(), KeyValue::Multi(vec!["team".into()]))]
        );
        let sched = catalog::action("ScheduleActivityTask").unwrap();
        let keys = condition_keys(
            sched,
            &obj(
                json!({"activityType": {"name": "hb", "version": "1"}, "taskList": {"name": "workers"}}),
            ),
        );
        assert_eq!(keys.len(), 3);
        let can = catalog::action("ContinueAsNewWorkflowExecution").unwrap();
        let keys = condition_keys(
            can,
            &obj(json!({"workflowTypeVersion": "2", "taskList": {"name": "t"}})),
        );
        assert!(keys.contains(&(
            "swf:workflowTypeVersion".into(),
            KeyValue::Single("2".into())
        )));
        assert!(keys.contains(&(
            "swf:workflowType.version".into(),
            KeyValue::Single("2".into())
        )));
    }
}
