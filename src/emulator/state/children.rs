//! Child workflow executions (the StartChildWorkflowExecution decision, the `Child*`
//! events of the parent, child policies) and the ScheduleLambdaFunction decision.
//!
//! The parent's child policy is applied to its open children when the parent is
//! terminated or times out, as SWF documents it (`childPolicy` of StartWorkflowExecution,
//! the workflow type and TerminateWorkflowExecution); a parent that completes, fails,
//! is canceled or continues as new leaves its children running.

use super::{s, Obj, Parent, State};
use crate::swf::wire::{Fault, WireError};
use serde_json::{json, Map, Value};

/// The settings of a child execution after its workflow type's defaults.
struct Resolved {
    exec_timeout: String,
    task_list: String,
    task_timeout: String,
    child_policy: String,
}

impl State {
    /// Applies an allowed StartChildWorkflowExecution decision of `exec`. Writes
    /// `StartChildWorkflowExecutionInitiated` and `ChildWorkflowExecutionStarted` (the
    /// child's `WorkflowExecutionStarted` names its parent), or
    /// `StartChildWorkflowExecutionFailed` with SWF's cause. Returns true: either way a
    /// decision task follows.
    pub(super) fn start_child(
        &mut self,
        exec: usize,
        a: &Obj,
        completed_id: u64,
        now: f64,
    ) -> bool {
        let domain = self.executions[exec].domain.clone();
        let wt = a.get("workflowType").cloned().unwrap_or(Value::Null);
        let wid = s(a, "workflowId").unwrap_or("").to_owned();
        let failed = |st: &mut State, cause: &str, initiated: u64| {
            let mut attrs = json!({
                "workflowType": wt,
                "cause": cause,
                "workflowId": wid,
                "initiatedEventId": initiated,
                "decisionTaskCompletedEventId": completed_id,
            });
            if let Some(c) = s(a, "control") {
                attrs["control"] = json!(c);
            }
            st.executions[exec].event("StartChildWorkflowExecutionFailed", now, attrs);
            true
        };
        let name = wt.get("name").and_then(Value::as_str).unwrap_or("");
        let version = wt.get("version").and_then(Value::as_str).unwrap_or("");
        let Some(t) = self
            .domains
            .get(&domain)
            .and_then(|d| d.workflow_types.get(&(name.to_owned(), version.to_owned())))
        else {
            return failed(self, "WORKFLOW_TYPE_DOES_NOT_EXIST", 0);
        };
        if t.deprecated {
            return failed(self, "WORKFLOW_TYPE_DEPRECATED", 0);
        }
        let pick = |field: &str, default: &str| -> Option<String> {
            s(a, field)
                .map(str::to_owned)
                .or_else(|| s(&t.config, default).map(str::to_owned))
        };
        let resolved = (|| -> Result<Resolved, &'static str> {
            Ok(Resolved {
                exec_timeout: pick(
                    "executionStartToCloseTimeout",
                    "defaultExecutionStartToCloseTimeout",
                )
                .ok_or("DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED")?,
                task_list: a
                    .get("taskList")
                    .and_then(|x| x.get("name"))
                    .and_then(Value::as_str)
                    .or_else(|| {
                        t.config
                            .get("defaultTaskList")
                            .and_then(|x| x.get("name"))
                            .and_then(Value::as_str)
                    })
                    .map(str::to_owned)
                    .ok_or("DEFAULT_TASK_LIST_UNDEFINED")?,
                task_timeout: pick("taskStartToCloseTimeout", "defaultTaskStartToCloseTimeout")
                    .ok_or("DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED")?,
                child_policy: pick("childPolicy", "defaultChildPolicy")
                    .ok_or("DEFAULT_CHILD_POLICY_UNDEFINED")?,
            })
        })();
        let lambda_role = pick("lambdaRole", "defaultLambdaRole");
        let r = match resolved {
            Ok(r) => r,
            Err(cause) => return failed(self, cause, 0),
        };
        let mut initiated = json!({
            "workflowId": wid,
            "workflowType": wt,
            "executionStartToCloseTimeout": r.exec_timeout,
            "taskList": {"name": r.task_list},
            "decisionTaskCompletedEventId": completed_id,
            "childPolicy": r.child_policy,
            "taskStartToCloseTimeout": r.task_timeout,
        });
        for k in ["control", "input", "taskPriority"] {
            if let Some(v) = s(a, k) {
                initiated[k] = json!(v);
            }
        }
        if let Some(tags) = a
            .get("tagList")
            .filter(|t| t.as_array().is_some_and(|t| !t.is_empty()))
        {
            initiated["tagList"] = tags.clone();
        }
        if let Some(role) = &lambda_role {
            initiated["lambdaRole"] = json!(role);
        }
        let init_id =
            self.executions[exec].event("StartChildWorkflowExecutionInitiated", now, initiated);
        let mut body = Map::new();
        body.insert("domain".into(), json!(domain));
        body.insert("workflowId".into(), json!(wid));
        body.insert("workflowType".into(), wt.clone());
        body.insert("executionStartToCloseTimeout".into(), json!(r.exec_timeout));
        body.insert("taskList".into(), json!({"name": r.task_list}));
        body.insert("taskStartToCloseTimeout".into(), json!(r.task_timeout));
        body.insert("childPolicy".into(), json!(r.child_policy));
        for k in ["input", "tagList", "taskPriority", "lambdaRole"] {
            if let Some(v) = a.get(k) {
                body.insert(k.into(), v.clone());
            }
        }
        let child_run = match self.start_execution(&body, now, None) {
            Ok(run) => run,
            Err(WireError::Fault(Fault::WorkflowExecutionAlreadyStartedFault, _)) => {
                return failed(self, "WORKFLOW_ALREADY_RUNNING", init_id)
            }
            Err(WireError::Fault(Fault::TypeDeprecatedFault, _)) => {
                return failed(self, "WORKFLOW_TYPE_DEPRECATED", init_id)
            }
            // The decision's fields were validated before any decision was applied and
            // the type exists, so a start cannot fail otherwise; should it, the decider
            // learns that the child did not start.
            Err(_) => return failed(self, "WORKFLOW_TYPE_DOES_NOT_EXIST", init_id),
        };
        let child = self.executions.len() - 1;
        let parent_key = self.executions[exec].key_json();
        let started_id = self.executions[exec].event(
            "ChildWorkflowExecutionStarted",
            now,
            json!({
                "workflowExecution": {"workflowId": wid, "runId": child_run},
                "workflowType": wt,
                "initiatedEventId": init_id,
            }),
        );
        let c = &mut self.executions[child];
        if let Some(Value::Object(first)) = c.events.first_mut() {
            if let Some(Value::Object(attrs)) =
                first.get_mut("workflowExecutionStartedEventAttributes")
            {
                attrs.insert("parentWorkflowExecution".into(), parent_key);
                attrs.insert("parentInitiatedEventId".into(), json!(init_id));
            }
        }
        c.parent = Some(Parent {
            exec,
            initiated: init_id,
            started: started_id,
        });
        true
    }

    /// What follows the close of execution `exec`: its parent (if open) records the
    /// child's close, and — when it was terminated or timed out — its child policy
    /// (`policy`, else its own) is applied to its open children, recursively.
    pub(super) fn after_close(&mut self, exec: usize, now: f64, policy: Option<String>) {
        let mut work = vec![(exec, policy)];
        while let Some((i, policy)) = work.pop() {
            let e = &self.executions[i];
            let Some(status) = e.close_status else {
                continue;
            };
            // The parent learns of the close (a continued run stays its child).
            if let Some(p) = e.parent.filter(|_| status != "CONTINUED_AS_NEW") {
                let close = e
                    .events
                    .last()
                    .and_then(Value::as_object)
                    .and_then(|o| o.values().find_map(Value::as_object))
                    .cloned()
                    .unwrap_or_default();
                let (ty, keep): (&str, &[&str]) = match status {
                    "COMPLETED" => ("ChildWorkflowExecutionCompleted", &["result"]),
                    "FAILED" => ("ChildWorkflowExecutionFailed", &["reason", "details"]),
                    "CANCELED" => ("ChildWorkflowExecutionCanceled", &["details"]),
                    "TIMED_OUT" => ("ChildWorkflowExecutionTimedOut", &["timeoutType"]),
                    _ => ("ChildWorkflowExecutionTerminated", &[]),
                };
                let mut attrs = json!({
                    "workflowExecution": e.key_json(),
                    "workflowType": e.workflow_type,
                    "initiatedEventId": p.initiated,
                    "startedEventId": p.started,
                });
                for k in keep {
                    if let Some(v) = close.get(*k) {
                        attrs[*k] = v.clone();
                    }
                }
                if let Some(parent) = self.executions.get_mut(p.exec).filter(|x| x.open()) {
                    parent.event(ty, now, attrs);
                    parent.schedule_decision(now);
                }
            }
            let e = &self.executions[i];
            if !matches!(status, "TERMINATED" | "TIMED_OUT") {
                continue;
            }
            let policy = policy.unwrap_or_else(|| e.child_policy.clone());
            let children: Vec<usize> = (0..self.executions.len())
                .filter(|&c| {
                    let x = &self.executions[c];
                    x.open() && x.parent.is_some_and(|p| p.exec == i)
                })
                .collect();
            for c in children {
                let x = &mut self.executions[c];
                match policy.as_str() {
                    "TERMINATE" => {
                        let attrs =
                            json!({"childPolicy": x.child_policy, "cause": "CHILD_POLICY_APPLIED"});
                        x.event("WorkflowExecutionTerminated", now, attrs);
                        x.close_with("TERMINATED", now);
                        work.push((c, None));
                    }
                    "REQUEST_CANCEL" if !x.cancel_requested => {
                        x.cancel_requested = true;
                        x.event(
                            "WorkflowExecutionCancelRequested",
                            now,
                            json!({"cause": "CHILD_POLICY_APPLIED"}),
                        );
                        x.schedule_decision(now);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Open child executions of `exec`.
    pub(super) fn open_children(&self, exec: usize) -> usize {
        self.executions
            .iter()
            .filter(|x| x.open() && x.parent.is_some_and(|p| p.exec == exec))
            .count()
    }

    /// Applies a ScheduleLambdaFunction decision. The emulator runs no Lambda
    /// functions: it records `LambdaFunctionScheduled` and then
    /// `StartLambdaFunctionFailed` with cause `ASSUME_ROLE_FAILED` — what SWF records
    /// when the execution has no Lambda role it can assume. Returns true: a decision
    /// task follows.
    pub(super) fn schedule_lambda(
        &mut self,
        exec: usize,
        a: &Obj,
        completed_id: u64,
        now: f64,
    ) -> bool {
        let e = &mut self.executions[exec];
        let mut attrs = json!({
            "id": s(a, "id").unwrap_or(""),
            "name": s(a, "name").unwrap_or(""),
            "decisionTaskCompletedEventId": completed_id,
        });
        for k in ["control", "input", "startToCloseTimeout"] {
            if let Some(v) = s(a, k) {
                attrs[k] = json!(v);
            }
        }
        let scheduled = e.event("LambdaFunctionScheduled", now, attrs);
        let message = match &e.lambda_role {
            None => "The workflow execution has no lambdaRole (set it on StartWorkflowExecution or as the workflow type's defaultLambdaRole)".to_owned(),
            Some(role) => format!("The swf-iam emulator invokes no Lambda functions and cannot assume {role}"),
        };
        e.event(
            "StartLambdaFunctionFailed",
            now,
            json!({"scheduledEventId": scheduled, "cause": "ASSUME_ROLE_FAILED", "message": message}),
        );
        true
    }
}
