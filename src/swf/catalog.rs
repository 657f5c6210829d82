//! The Amazon SWF action catalog: every IAM action of the `swf` service, its access
//! level, its resource and the condition keys it supports (`swf.md` §2–3).

/// The SAR access level of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum AccessLevel {
    /// Read.
    Read,
    /// Write.
    Write,
    /// List.
    List,
    /// Tagging.
    Tagging,
}

/// Where a request's domain comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainSource {
    /// The `domain` member of the request body.
    DomainField,
    /// The `name` member (domain operations).
    NameField,
    /// The text after `:/domain/` in `resourceArn` (tagging operations).
    ResourceArn,
    /// The domain of the task that `taskToken` names.
    TaskToken,
    /// The decision task being completed (pseudo-actions inside `RespondDecisionTaskCompleted`).
    DecisionTask,
    /// No resource: the request resource is `*`.
    None,
}

/// One IAM action of the `swf` service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwfAction {
    /// The action name without prefix (`RecordActivityTaskHeartbeat`).
    pub name: &'static str,
    /// Access level.
    pub access: AccessLevel,
    /// How the domain resource is found.
    pub domain: DomainSource,
    /// Action-specific condition keys (`aws:ResourceTag/${TagKey}` is implied for every
    /// action with a domain resource and not listed).
    pub keys: &'static [&'static str],
    /// Whether this is a permission-only decision action (checked inside
    /// `RespondDecisionTaskCompleted`), not an API operation.
    pub decision: bool,
}

impl SwfAction {
    /// Whether the action is authorized against a domain ARN (else against `*`).
    pub fn has_domain_resource(&self) -> bool {
        self.domain != DomainSource::None
    }

    /// Whether condition key `key` (any case) applies to this action: its own keys,
    /// `aws:ResourceTag/*` for domain actions, or a global `aws:` key.
    pub fn supports_key(&self, key: &str) -> bool {
        let lower = key.to_ascii_lowercase();
        if !lower.starts_with("swf:") {
            if lower.starts_with("aws:resourcetag/") {
                return self.has_domain_resource();
            }
            if lower.starts_with("aws:requesttag/") || lower == "aws:tagkeys" {
                return self.keys.iter().any(|k| k.eq_ignore_ascii_case(key))
                    || self.keys.iter().any(|k| {
                        k.starts_with("aws:RequestTag/") && lower.starts_with("aws:requesttag/")
                    });
            }
            return true;
        }
        self.keys.iter().any(|k| k.eq_ignore_ascii_case(key))
    }
}

const AT: &[&str] = &["swf:activityType.name", "swf:activityType.version"];
const WT: &[&str] = &["swf:workflowType.name", "swf:workflowType.version"];
const TL: &[&str] = &["swf:taskList.name"];
const FLT: &[&str] = &[
    "swf:tagFilter.tag",
    "swf:typeFilter.name",
    "swf:typeFilter.version",
];
const REGISTER_TYPE: &[&str] = &["swf:defaultTaskList.name", "swf:name", "swf:version"];
const START: &[&str] = &[
    "swf:tagList.member.0",
    "swf:tagList.member.1",
    "swf:tagList.member.2",
    "swf:tagList.member.3",
    "swf:tagList.member.4",
    "swf:taskList.name",
    "swf:workflowType.name",
    "swf:workflowType.version",
];
const SCHEDULE: &[&str] = &[
    "swf:activityType.name",
    "swf:activityType.version",
    "swf:taskList.name",
];
const CONTINUE_AS_NEW: &[&str] = &[
    "swf:tagList.member.0",
    "swf:tagList.member.1",
    "swf:tagList.member.2",
    "swf:tagList.member.3",
    "swf:tagList.member.4",
    "swf:taskList.name",
    "swf:workflowTypeVersion",
    "swf:workflowType.version",
];
const TAGS_REQ: &[&str] = &["aws:RequestTag/${TagKey}", "aws:TagKeys"];
const TAG_KEYS: &[&str] = &["aws:TagKeys"];

const fn op(
    name: &'static str,
    access: AccessLevel,
    domain: DomainSource,
    keys: &'static [&'static str],
) -> SwfAction {
    SwfAction {
        name,
        access,
        domain,
        keys,
        decision: false,
    }
}

const fn decision(name: &'static str, keys: &'static [&'static str]) -> SwfAction {
    SwfAction {
        name,
        access: AccessLevel::Write,
        domain: DomainSource::DecisionTask,
        keys,
        decision: true,
    }
}

use AccessLevel::{List, Read, Tagging, Write};
use DomainSource::{DomainField, NameField, ResourceArn, TaskToken};

/// Every `swf` action: the 39 API operations (RecordActivityTaskHeartbeat first), then
/// the 12 permission-only decision actions. `ScheduleLambdaFunction` is not an action.
pub const ACTIONS: &[SwfAction] = &[
    op("RecordActivityTaskHeartbeat", Write, TaskToken, &[]),
    op("CountClosedWorkflowExecutions", Read, DomainField, FLT),
    op("CountOpenWorkflowExecutions", Read, DomainField, FLT),
    op("CountPendingActivityTasks", Read, DomainField, TL),
    op("CountPendingDecisionTasks", Read, DomainField, TL),
    op("DeleteActivityType", Write, DomainField, AT),
    op("DeleteWorkflowType", Write, DomainField, WT),
    op("DeprecateActivityType", Write, DomainField, AT),
    op("DeprecateDomain", Write, NameField, &[]),
    op("DeprecateWorkflowType", Write, DomainField, WT),
    op("DescribeActivityType", Read, DomainField, AT),
    op("DescribeDomain", Read, NameField, &[]),
    op("DescribeWorkflowExecution", Read, DomainField, &[]),
    op("DescribeWorkflowType", Read, DomainField, WT),
    op("GetWorkflowExecutionHistory", Read, DomainField, &[]),
    op("ListActivityTypes", List, DomainField, &[]),
    op("ListClosedWorkflowExecutions", List, DomainField, FLT),
    op("ListDomains", List, DomainSource::None, &[]),
    op("ListOpenWorkflowExecutions", List, DomainField, FLT),
    op("ListTagsForResource", List, ResourceArn, &[]),
    op("ListWorkflowTypes", List, DomainField, &[]),
    op("PollForActivityTask", Write, DomainField, TL),
    op("PollForDecisionTask", Write, DomainField, TL),
    op("RegisterActivityType", Write, DomainField, REGISTER_TYPE),
    op("RegisterDomain", Write, DomainSource::None, TAGS_REQ),
    op("RegisterWorkflowType", Write, DomainField, REGISTER_TYPE),
    op("RequestCancelWorkflowExecution", Write, DomainField, &[]),
    op("RespondActivityTaskCanceled", Write, TaskToken, &[]),
    op("RespondActivityTaskCompleted", Write, TaskToken, &[]),
    op("RespondActivityTaskFailed", Write, TaskToken, &[]),
    op("RespondDecisionTaskCompleted", Write, TaskToken, &[]),
    op("SignalWorkflowExecution", Write, DomainField, &[]),
    op("StartWorkflowExecution", Write, DomainField, START),
    op("TagResource", Tagging, ResourceArn, TAGS_REQ),
    op("TerminateWorkflowExecution", Write, DomainField, &[]),
    op("UndeprecateActivityType", Write, DomainField, AT),
    op("UndeprecateDomain", Write, NameField, &[]),
    op("UndeprecateWorkflowType", Write, DomainField, WT),
    op("UntagResource", Tagging, ResourceArn, TAG_KEYS),
    decision("ScheduleActivityTask", SCHEDULE),
    decision("RequestCancelActivityTask", &[]),
    decision("CompleteWorkflowExecution", &[]),
    decision("FailWorkflowExecution", &[]),
    decision("CancelWorkflowExecution", &[]),
    decision("ContinueAsNewWorkflowExecution", CONTINUE_AS_NEW),
    decision("RecordMarker", &[]),
    decision("StartTimer", &[]),
    decision("CancelTimer", &[]),
    decision("SignalExternalWorkflowExecution", &[]),
    decision("RequestCancelExternalWorkflowExecution", &[]),
    decision("StartChildWorkflowExecution", START),
];

/// Looks up an action by name, case-insensitively, with or without the `swf:` prefix.
pub fn action(name: &str) -> Option<&'static SwfAction> {
    let bare = match name.split_once(':') {
        Some((svc, rest)) if svc.eq_ignore_ascii_case("swf") => rest,
        Some(_) => return None,
        None => name,
    };
    ACTIONS.iter().find(|a| a.name.eq_ignore_ascii_case(bare))
}

/// Every `swf:` condition key of any action, in the catalog's spelling.
pub fn all_swf_keys() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    for a in ACTIONS {
        for k in a.keys {
            if k.starts_with("swf:") && !seen.contains(k) {
                seen.push(k);
            }
        }
    }
    seen.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_shape() {
        assert_eq!(ACTIONS.len(), 39 + 12);
        assert_eq!(ACTIONS[0].name, "RecordActivityTaskHeartbeat");
        assert_eq!(ACTIONS.iter().filter(|a| a.decision).count(), 12);
        let mut names: Vec<_> = ACTIONS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACTIONS.len(), "no duplicate action");
    }

    #[test]
    fn heartbeat_has_no_action_keys_but_resource_tags_apply() {
        let hb = action("SWF:recordactivitytaskheartbeat").unwrap();
        assert!(hb.keys.is_empty());
        assert!(!hb.supports_key("swf:taskList.name"));
        assert!(hb.supports_key("aws:ResourceTag/team"));
        assert!(hb.supports_key("aws:SourceIp"));
        assert!(!hb.supports_key("aws:TagKeys"));
    }

    #[test]
    fn lookups() {
        assert!(action("swf:ScheduleLambdaFunction").is_none());
        assert!(action("s3:GetObject").is_none());
        assert_eq!(action("ListDomains").unwrap().domain, DomainSource::None);
        assert!(action("swf:PollForActivityTask")
            .unwrap()
            .supports_key("SWF:TASKLIST.NAME"));
        assert!(action("RegisterDomain")
            .unwrap()
            .supports_key("aws:RequestTag/env"));
        assert!(all_swf_keys().any(|k| k == "swf:workflowTypeVersion"));
    }
}
