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
    /// The domain named `*` of the request's region (`ListDomains`): AWS denies it
    /// `on resource: arn:aws:swf:us-east-1:ACCOUNT:/domain/*`, and its API reference says
    /// the Resource element "must be set to arn:aws:swf::AccountID:domain/*". The `*` is
    /// the name, a plain character: IAM matches the ARN as text.
    AllDomains,
    /// The `name` member, a domain that does not exist yet (`RegisterDomain`: "the name
    /// of the domain being registered is available as the resource of this action").
    NewDomain,
    /// No resource: the request resource is `*` (no SWF action today).
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

    /// The one domain name the action is always authorized on, if it has one
    /// (`ListDomains`: `*`).
    pub fn fixed_domain(&self) -> Option<&'static str> {
        (self.domain == DomainSource::AllDomains).then_some("*")
    }

    /// Whether the action acts on an existing domain, whose tags are then
    /// `aws:ResourceTag/*` (not `ListDomains`, whose resource names no domain, nor
    /// `RegisterDomain`, whose domain does not exist yet: its tags are `aws:RequestTag/*`).
    pub fn reads_domain_tags(&self) -> bool {
        !matches!(
            self.domain,
            DomainSource::None | DomainSource::AllDomains | DomainSource::NewDomain
        )
    }

    /// Whether condition key `key` (any case) applies to this action: its own keys,
    /// `aws:ResourceTag/*` for domain actions, or a global `aws:` key.
    pub fn supports_key(&self, key: &str) -> bool {
        let lower = key.to_ascii_lowercase();
        if !lower.starts_with("swf:") {
            if lower.starts_with("aws:resourcetag/") {
                return self.reads_domain_tags();
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
    op("ListDomains", List, DomainSource::AllDomains, &[]),
    op("ListOpenWorkflowExecutions", List, DomainField, FLT),
    op("ListTagsForResource", List, ResourceArn, &[]),
    op("ListWorkflowTypes", List, DomainField, &[]),
    op("PollForActivityTask", Write, DomainField, TL),
    op("PollForDecisionTask", Write, DomainField, TL),
    op("RegisterActivityType", Write, DomainField, REGISTER_TYPE),
    op("RegisterDomain", Write, DomainSource::NewDomain, TAGS_REQ),
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

/// Which of a request's inputs a [`ResourceError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceInput {
    /// The domain name given.
    Domain,
    /// The resource ARN given.
    Resource,
    /// Neither was given (or both were).
    Request,
}

/// Why a request's resource cannot be derived from what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ResourceError {
    /// The input at fault.
    pub input: ResourceInput,
    /// What is wrong, with the way out.
    pub message: String,
}

/// Where a request's domain ARN lives (partition, region, account), and how the caller
/// calls the two inputs in its messages (`--domain`/`--resource`, or `` `domain` ``/
/// `` `resource` ``).
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The partition.
    pub partition: &'a str,
    /// The region of the request.
    pub region: &'a str,
    /// The account of the domain.
    pub account: &'a str,
    /// The domain input's name in messages.
    pub domain_input: &'a str,
    /// The resource input's name in messages.
    pub resource_input: &'a str,
}

/// The resource of a request for `action` (`swf:Name`, or another service's action,
/// `swf` its catalog entry if it is an SWF action) from a domain name or a resource ARN:
/// the ARN of the domain (for `ListDomains`, of the domain named `*`, and with neither
/// given), the resource as given (checked by [`super::arn::check_request_resource`]), or
/// `*` for an action without a resource. `check` and permission cases derive resources
/// here alone.
pub fn request_resource(
    swf: Option<&SwfAction>,
    action: &str,
    domain: Option<&str>,
    resource: Option<&str>,
    at: Place<'_>,
) -> Result<String, ResourceError> {
    let err = |input, message: String| ResourceError { input, message };
    let arn = |name: &str, input| {
        super::arn::DomainArn::new(at.partition, at.region, at.account, name)
            .map(|a| a.to_string())
            .map_err(|e| err(input, e.to_string()))
    };
    match (domain, resource) {
        (Some(_), Some(_)) => Err(err(
            ResourceInput::Request,
            format!("give {} or {}, not both", at.domain_input, at.resource_input),
        )),
        (_, Some(r)) => {
            super::arn::check_request_resource(r).map_err(|e| err(ResourceInput::Resource, e))?;
            if let Some(a) = swf.filter(|a| !a.has_domain_resource() && r != "*") {
                return Err(err(
                    ResourceInput::Resource,
                    format!("`swf:{}` has no domain resource: it is authorized on `*`, not `{r}`", a.name),
                ));
            }
            Ok(r.to_owned())
        }
        (Some(d), None) => match swf {
            Some(a) if a.fixed_domain().is_some_and(|f| f != d) => Err(err(
                ResourceInput::Domain,
                format!(
                    "`swf:{}` is authorized on the domain named `{}` of the request's region, not on `{d}`: drop {}",
                    a.name,
                    a.fixed_domain().unwrap_or_default(),
                    at.domain_input
                ),
            )),
            Some(a) if !a.has_domain_resource() => Err(err(
                ResourceInput::Domain,
                format!(
                    "`swf:{}` has no domain resource: drop {} (its resource is `*`)",
                    a.name, at.domain_input
                ),
            )),
            None => Err(err(
                ResourceInput::Domain,
                format!(
                    "{} names an SWF domain, and `{action}` is not an SWF action: give {} ARN",
                    at.domain_input, at.resource_input
                ),
            )),
            Some(_) => arn(d, ResourceInput::Domain),
        },
        (None, None) => match swf {
            Some(a) if !a.has_domain_resource() => Ok("*".into()),
            Some(a) => match a.fixed_domain() {
                Some(f) => arn(f, ResourceInput::Request),
                None => Err(err(
                    ResourceInput::Request,
                    format!(
                        "give {} NAME or {} ARN for `{action}`",
                        at.domain_input, at.resource_input
                    ),
                )),
            },
            None => Err(err(
                ResourceInput::Request,
                format!(
                        "give {} NAME or {} ARN for `{action}`",
                        at.domain_input, at.resource_input
                    ),
            )),
        },
    }
}

/// Decision types SWF accepts that are no IAM action: never authorized at decision
/// level (`ScheduleLambdaFunction`: the Lambda invocation is authorized by its own role).
pub const DECISIONS_WITHOUT_ACTION: &[&str] = &["ScheduleLambdaFunction"];

/// Looks up an action by name, case-insensitively, with or without the `swf:` prefix.
pub fn action(name: &str) -> Option<&'static SwfAction> {
    let bare = match name.split_once(':') {
        Some((svc, rest)) if svc.eq_ignore_ascii_case("swf") => rest,
        Some(_) => return None,
        None => name,
    };
    ACTIONS.iter().find(|a| a.name.eq_ignore_ascii_case(bare))
}

/// The catalog action nearest to `name` (without prefix, any case) by edit distance,
/// if one is within a quarter of the name's length (at least 2 edits); `None` for an
/// exact (case-insensitive) match.
pub fn nearest(name: &str) -> Option<&'static SwfAction> {
    let lower = name.to_ascii_lowercase();
    let budget = (lower.len() / 4).max(2);
    ACTIONS
        .iter()
        .filter(|a| !a.name.eq_ignore_ascii_case(name))
        .map(|a| (edit_distance(&lower, &a.name.to_ascii_lowercase()), a))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, a)| (*d, a.name))
        .map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Reads the action of a request (`check --action`, a case's `action`): exactly one
/// action, `service:Name`. An `swf:` action must be in the catalog and comes back in
/// its spelling (`swf:recordactivitytaskheartbeat` → `swf:RecordActivityTaskHeartbeat`);
/// another service's action is kept as given and decided by IAM's generic rules. Empty
/// text, a missing prefix, a wildcard or an unknown `swf:` action is an error that says
/// what was meant where it can.
pub fn request_action(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err(
            "the action is empty: give one action, e.g. `swf:RecordActivityTaskHeartbeat`".into(),
        );
    }
    if text.contains(['*', '?']) {
        return Err(format!(
            "`{text}` is a pattern: a request names exactly one action, e.g. `swf:RecordActivityTaskHeartbeat`"
        ));
    }
    let Some((service, name)) = text.split_once(':') else {
        return Err(match action(text).or_else(|| nearest(text)) {
            Some(a) => format!(
                "`{text}` has no service prefix: did you mean `swf:{}`?",
                a.name
            ),
            None => {
                format!("`{text}` has no service prefix: write `service:Action`, e.g. `swf:{text}`")
            }
        });
    };
    let well_formed = !service.is_empty()
        && service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(format!("`{text}` is not an action: write `service:Action`"));
    }
    if !service.eq_ignore_ascii_case("swf") {
        return Ok(text.to_owned());
    }
    match action(name) {
        Some(a) => Ok(format!("swf:{}", a.name)),
        None => Err(match nearest(name) {
            Some(a) => format!("`{text}` is not an Amazon SWF action: did you mean `swf:{}`?", a.name),
            None => format!("`{text}` is not an Amazon SWF action (see `swf-iam validate`'s catalog of 39 operations and 12 decisions)"),
        }),
    }
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
        let list = action("ListDomains").unwrap();
        assert_eq!(list.domain, DomainSource::AllDomains);
        assert_eq!(list.fixed_domain(), Some("*"));
        assert!(list.has_domain_resource() && !list.reads_domain_tags());
        assert!(!list.supports_key("aws:ResourceTag/team"));
        let register = action("RegisterDomain").unwrap();
        assert_eq!(register.domain, DomainSource::NewDomain);
        assert!(register.has_domain_resource() && !register.reads_domain_tags());
        assert!(!register.supports_key("aws:ResourceTag/team"));
        assert!(ACTIONS.iter().all(|a| a.has_domain_resource()
            && (a.fixed_domain().is_some()) == (a.name == "ListDomains")));
        assert!(action("swf:PollForActivityTask")
            .unwrap()
            .supports_key("SWF:TASKLIST.NAME"));
        assert!(action("RegisterDomain")
            .unwrap()
            .supports_key("aws:RequestTag/env"));
        assert!(all_swf_keys().any(|k| k == "swf:workflowTypeVersion"));
    }

    #[test]
    fn request_actions_are_exact() {
        assert_eq!(
            request_action("swf:recordactivitytaskheartbeat").unwrap(),
            "swf:RecordActivityTaskHeartbeat"
        );
        assert_eq!(request_action("s3:GetObject").unwrap(), "s3:GetObject");
        let e = request_action("swf:RecordActivityTaskHeartbeet").unwrap_err();
        assert!(
            e.contains("did you mean `swf:RecordActivityTaskHeartbeat`?"),
            "{e}"
        );
        let e = request_action("RecordActivityTaskHeartbeat").unwrap_err();
        assert!(
            e.contains("no service prefix: did you mean `swf:RecordActivityTaskHeartbeat`?"),
            "{e}"
        );
        for bad in [
            "",
            "swf:*",
            "swf:Record*",
            "*",
            "swf:Record?ctivityTaskHeartbeat",
            "swf:",
            ":x",
            "swf:a b",
            "swf:Nothing",
        ] {
            assert!(request_action(bad).is_err(), "{bad}");
        }
        assert_eq!(
            nearest("PollForActivityTsk").map(|a| a.name),
            Some("PollForActivityTask")
        );
        assert!(nearest("Completely").is_none());
    }
}
