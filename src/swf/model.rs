//! SWF's input constraints from botocore's machine-readable model (`model.json`, derived
//! by `scripts/gen-swf-model` from botocore's `swf/2012-01-25/service-2.json`,
//! Apache-2.0): required members, string and list lengths, numeric ranges and enums,
//! checked as AWS checks them — every violation counted, in the model's member order,
//! in AWS's words (`2 validation errors detected: Value null at 'domain' failed to
//! satisfy constraint: Member must not be null; Value 'X' at 'decisions.1.member.
//! decisionType' failed to satisfy constraint: Member must satisfy enum value set: [...]`).

use super::wire::WireError;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
struct Shape {
    #[serde(rename = "type")]
    ty: String,
    min: Option<f64>,
    max: Option<f64>,
    #[serde(rename = "enum")]
    values: Option<Vec<String>>,
    members: Option<Vec<(String, String)>>,
    required: Option<Vec<String>>,
    member: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Model {
    operations: HashMap<String, String>,
    #[serde(default)]
    outputs: HashMap<String, String>,
    shapes: HashMap<String, Shape>,
}

fn model() -> Option<&'static Model> {
    static MODEL: OnceLock<Option<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| serde_json::from_str(include_str!("model.json")).ok())
        .as_ref()
}

/// How a value is quoted in a message: strings as written, lists as `[a, b]`.
fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn bound(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// `path` is a buffer: each member is appended for its walk and taken off after, so a
/// valid request allocates nothing here.
fn walk_members(
    m: &Model,
    s: &Shape,
    o: &Map<String, Value>,
    path: &mut String,
    errs: &mut Vec<String>,
) {
    for (name, member) in s.members.iter().flatten() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
        match o.get(name) {
            None | Some(Value::Null) => {
                if s.required.iter().flatten().any(|r| r == name) {
                    errs.push(format!(
                        "Value null at '{path}' failed to satisfy constraint: Member must not be null"
                    ));
                }
            }
            Some(x) => walk(m, member, x, path, errs),
        }
        path.truncate(len);
    }
}

fn walk(m: &Model, shape: &str, v: &Value, path: &mut String, errs: &mut Vec<String>) {
    let Some(s) = m.shapes.get(shape) else {
        return;
    };
    let mut fail = |constraint: String| {
        errs.push(format!(
            "Value '{}' at '{path}' failed to satisfy constraint: Member must {constraint}",
            render(v)
        ));
    };
    let length = |len: f64, fail: &mut dyn FnMut(String)| {
        if let Some(min) = s.min.filter(|min| len < *min) {
            fail(format!(
                "have length greater than or equal to {}",
                bound(min)
            ));
        } else if let Some(max) = s.max.filter(|max| len > *max) {
            fail(format!("have length less than or equal to {}", bound(max)));
        }
    };
    match (s.ty.as_str(), v) {
        ("structure", Value::Object(o)) => walk_members(m, s, o, path, errs),
        ("string", Value::String(x)) => {
            length(x.chars().count() as f64, &mut fail);
            if let Some(values) = &s.values {
                if !values.iter().any(|e| e == x) {
                    fail(format!("satisfy enum value set: [{}]", values.join(", ")));
                }
            }
        }
        ("list", Value::Array(items)) => {
            length(items.len() as f64, &mut fail);
            if let Some(member) = &s.member {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    use std::fmt::Write as _;
                    let _ = write!(path, ".{}.member", i + 1);
                    walk(m, member, item, path, errs);
                    path.truncate(len);
                }
            }
        }
        ("integer" | "long", Value::Number(n)) => {
            if let Some(x) = n.as_f64() {
                if let Some(min) = s.min.filter(|min| x < *min) {
                    fail(format!(
                        "have value greater than or equal to {}",
                        bound(min)
                    ));
                } else if let Some(max) = s.max.filter(|max| x > *max) {
                    fail(format!("have value less than or equal to {}", bound(max)));
                }
            }
        }
        // Other types, and values of the wrong JSON type, are the decoder's to refuse.
        _ => {}
    }
}

/// Checks the body of `operation` against the model: `ValidationException` with every
/// violation, or `Ok`. An operation the model does not know passes (the dispatcher
/// refuses it).
pub fn validate_input(operation: &str, body: &Map<String, Value>) -> Result<(), WireError> {
    let Some(m) = model() else {
        return Err(WireError::InternalFailure(
            "the embedded SWF model does not parse".into(),
        ));
    };
    let Some(shape) = m.operations.get(operation) else {
        return Ok(());
    };
    let Some(s) = m.shapes.get(shape) else {
        return Ok(());
    };
    let mut errs = Vec::new();
    walk_members(m, s, body, &mut String::new(), &mut errs);
    match errs.len() {
        0 => Ok(()),
        1 => Err(WireError::Validation(format!(
            "1 validation error detected: {}",
            errs[0]
        ))),
        n => Err(WireError::Validation(format!(
            "{n} validation errors detected: {}",
            errs.join("; ")
        ))),
    }
}

/// Removes from the response of `operation` every member its output shape (in the
/// model) does not define, recursively, and returns their paths: a response then carries
/// exactly what SWF's model describes. An operation without output leaves `{}`.
pub fn conform_output(operation: &str, v: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    let Some(m) = model() else {
        return dropped;
    };
    match m.outputs.get(operation) {
        Some(shape) => conform(m, shape, v, &mut String::new(), &mut dropped),
        None => {
            if let Value::Object(o) = v {
                dropped.extend(o.keys().cloned());
                o.clear();
            }
        }
    }
    dropped
}

fn conform(m: &Model, shape: &str, v: &mut Value, path: &mut String, dropped: &mut Vec<String>) {
    let Some(s) = m.shapes.get(shape) else {
        return;
    };
    match (s.ty.as_str(), v) {
        ("structure", Value::Object(o)) => {
            let members = s.members.as_deref().unwrap_or(&[]);
            o.retain(|k, _| {
                let keep = members.iter().any(|(name, _)| name == k);
                if !keep {
                    dropped.push(if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    });
                }
                keep
            });
            for (name, member) in members {
                if let Some(x) = o.get_mut(name) {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                    conform(m, member, x, path, dropped);
                    path.truncate(len);
                }
            }
        }
        ("list", Value::Array(items)) => {
            if let Some(member) = &s.member {
                for x in items.iter_mut() {
                    let len = path.len();
                    path.push_str(".member");
                    conform(m, member, x, path, dropped);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(op: &str, body: Value) -> Result<(), String> {
        let Value::Object(o) = body else {
            unreachable!()
        };
        validate_input(op, &o).map_err(|e| match e {
            WireError::Validation(m) => m,
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn the_model_is_embedded_whole() {
        let m = model().unwrap();
        assert_eq!(m.operations.len(), 39);
        assert!(m.shapes.contains_key("Decision"));
    }

    #[test]
    fn every_violation_is_counted_in_model_order() {
        assert_eq!(check("DescribeDomain", json!({})).unwrap_err(),
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
        let e = check(
            "RespondDecisionTaskCompleted",
            json!({"taskToken": "t", "decisions": [
                {"decisionType": "ScheduleActivity"},
                {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": ""}}]}),
        )
        .unwrap_err();
        assert_eq!(e, "3 validation errors detected: Value 'ScheduleActivity' at 'decisions.1.member.decisionType' failed to satisfy constraint: Member must satisfy enum value set: [ScheduleActivityTask, RequestCancelActivityTask, CompleteWorkflowExecution, FailWorkflowExecution, CancelWorkflowExecution, ContinueAsNewWorkflowExecution, RecordMarker, StartTimer, CancelTimer, SignalExternalWorkflowExecution, RequestCancelExternalWorkflowExecution, StartChildWorkflowExecution, ScheduleLambdaFunction]; Value null at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.activityType' failed to satisfy constraint: Member must not be null; Value '' at 'decisions.2.member.scheduleActivityTaskDecisionAttributes.activityId' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }

    #[test]
    fn responses_keep_exactly_the_model_members() {
        let mut v = json!({"domainInfo": {"name": "d", "status": "REGISTERED", "secret": 1},
            "configuration": {"workflowExecutionRetentionPeriodInDays": "1"}, "extra": true});
        let dropped = conform_output("DescribeDomain", &mut v);
        assert_eq!(dropped, ["extra", "domainInfo.secret"]);
        assert_eq!(
            v,
            json!({"domainInfo": {"name": "d", "status": "REGISTERED"},
            "configuration": {"workflowExecutionRetentionPeriodInDays": "1"}})
        );
        let mut h = json!({"events": [{"eventId": 1, "eventType": "MarkerRecorded",
            "eventTimestamp": 1.0, "markerRecordedEventAttributes": {"markerName": "m", "decisionTaskCompletedEventId": 2, "bogus": 3}}]});
        assert_eq!(
            conform_output("GetWorkflowExecutionHistory", &mut h),
            ["events.member.markerRecordedEventAttributes.bogus"]
        );
        let mut empty = json!({"x": 1});
        assert_eq!(
            conform_output("RecordMarker-less-operation", &mut empty),
            ["x"]
        );
        assert_eq!(empty, json!({}));
    }

    #[test]
    fn lengths_ranges_and_lists() {
        let long = "x".repeat(257);
        assert_eq!(
            check("RegisterDomain", json!({"name": long, "workflowExecutionRetentionPeriodInDays": "1"})).unwrap_err(),
            format!("1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 256")
        );
        let e = check(
            "StartWorkflowExecution",
            json!({"domain": "d", "workflowId": "w", "workflowType": {"name": "n", "version": "1"},
                   "tagList": ["a", "b", "c", "d", "e", "f"], "childPolicy": "KILL"}),
        )
        .unwrap_err();
        assert!(e.starts_with("2 validation errors detected: Value '[a, b, c, d, e, f]' at 'tagList' failed to satisfy constraint: Member must have length less than or equal to 5; Value 'KILL' at 'childPolicy' failed to satisfy constraint: Member must satisfy enum value set: [TERMINATE, REQUEST_CANCEL, ABANDON]"), "{e}");
        assert_eq!(
            check("ListDomains", json!({"registrationStatus": "REGISTERED", "maximumPageSize": 1001})).unwrap_err(),
            "1 validation error detected: Value '1001' at 'maximumPageSize' failed to satisfy constraint: Member must have value less than or equal to 1000"
        );
        assert!(check("ListDomains", json!({"registrationStatus": "REGISTERED"})).is_ok());
        assert!(check("NoSuchOperation", json!({})).is_ok());
    }
}
