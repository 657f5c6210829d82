//! Decisions that reach another execution: SignalExternalWorkflowExecution and
//! RequestCancelExternalWorkflowExecution, with the events SWF records on both sides.

use super::{s, Obj, State};
use crate::swf::wire::WireError;
use serde_json::{json, Value};

impl State {
    /// The open execution of `domain` a decision names (`workflowId`, optional `runId`).
    fn external_target(&self, domain: &str, a: &Obj) -> Option<usize> {
        let wid = s(a, "workflowId")?;
        let run = s(a, "runId");
        self.executions.iter().position(|e| {
            e.domain == domain
                && e.open()
                && e.workflow_id == wid
                && run.is_none_or(|r| e.run_id == r)
        })
    }

    /// Applies an allowed SignalExternal/RequestCancelExternal decision of execution
    /// `exec`. Always writes an event its decider must see (the external result or the
    /// failure), so it returns true: a decision task follows.
    pub(super) fn apply_external(
        &mut self,
        exec: usize,
        ty: &str,
        a: &Obj,
        completed_id: u64,
        now: f64,
    ) -> bool {
        let signal = ty == "SignalExternalWorkflowExecution";
        let domain = self.executions[exec].domain.clone();
        let mut initiated = json!({
            "workflowId": s(a, "workflowId").unwrap_or(""),
            "decisionTaskCompletedEventId": completed_id,
        });
        for k in ["runId", "control"].into_iter().chain(
            signal
                .then_some(["signalName", "input"])
                .into_iter()
                .flatten(),
        ) {
            if let Some(v) = s(a, k) {
                initiated[k] = json!(v);
            }
        }
        let init_id = self.executions[exec].event(&format!("{ty}Initiated"), now, initiated);
        let Some(target) = self.external_target(&domain, a) else {
            let mut failed = json!({
                "workflowId": s(a, "workflowId").unwrap_or(""),
                "cause": "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION",
                "initiatedEventId": init_id,
                "decisionTaskCompletedEventId": completed_id,
            });
            for k in ["runId", "control"] {
                if let Some(v) = s(a, k) {
                    failed[k] = json!(v);
                }
            }
            self.executions[exec].event(&format!("{ty}Failed"), now, failed);
            return true;
        };
        let source = self.executions[exec].key_json();
        let t = &mut self.executions[target];
        let target_key = t.key_json();
        if signal {
            let mut attrs = json!({
                "signalName": s(a, "signalName").unwrap_or(""),
                "externalWorkflowExecution": source,
                "externalInitiatedEventId": init_id,
            });
            if let Some(inp) = s(a, "input") {
                attrs["input"] = json!(inp);
            }
            t.event("WorkflowExecutionSignaled", now, attrs);
            t.schedule_decision(now);
        } else if !t.cancel_requested {
            t.cancel_requested = true;
            t.event(
                "WorkflowExecutionCancelRequested",
                now,
                json!({"externalWorkflowExecution": source, "externalInitiatedEventId": init_id}),
            );
            t.schedule_decision(now);
        }
        let mut done: Value = json!({"workflowExecution": target_key, "initiatedEventId": init_id});
        if signal {
            self.executions[exec].event("ExternalWorkflowExecutionSignaled", now, done.take());
        } else {
            self.executions[exec].event("ExternalWorkflowExecutionCancelRequested", now, done);
        }
        true
    }
}

impl State {
    /// Applies an allowed ContinueAsNewWorkflowExecution decision of `exec`: the run
    /// closes as `CONTINUED_AS_NEW` and a new run of the same workflowId starts (its
    /// `WorkflowExecutionStarted` names `continuedExecutionRunId`), with the decision's
    /// settings over the workflow type's defaults. Returns whether a `*Failed` event
    /// was written.
    pub(super) fn continue_as_new(
        &mut self,
        exec: usize,
        a: &Obj,
        completed_id: u64,
        now: f64,
    ) -> bool {
        let failed = |st: &mut State, cause: &str| {
            st.executions[exec].event(
                "ContinueAsNewWorkflowExecutionFailed",
                now,
                json!({"cause": cause, "decisionTaskCompletedEventId": completed_id}),
            );
            true
        };
        if self.executions[exec].pending_decision {
            return failed(self, "UNHANDLED_DECISION");
        }
        let old = &self.executions[exec];
        let name = old.workflow_type["name"].as_str().unwrap_or("").to_owned();
        let version = s(a, "workflowTypeVersion")
            .map(str::to_owned)
            .unwrap_or_else(|| {
                old.workflow_type["version"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            });
        let (domain, wid, old_run) = (
            old.domain.clone(),
            old.workflow_id.clone(),
            old.run_id.clone(),
        );
        match self
            .domains
            .get(&domain)
            .and_then(|d| d.workflow_types.get(&(name.clone(), version.clone())))
        {
            None => return failed(self, "WORKFLOW_TYPE_DOES_NOT_EXIST"),
            Some(t) if t.deprecated => return failed(self, "WORKFLOW_TYPE_DEPRECATED"),
            Some(_) => {}
        }
        let mut body = serde_json::Map::new();
        body.insert("domain".into(), json!(domain));
        body.insert("workflowId".into(), json!(wid));
        body.insert(
            "workflowType".into(),
            json!({"name": name, "version": version}),
        );
        for k in [
            "input",
            "executionStartToCloseTimeout",
            "taskList",
            "taskStartToCloseTimeout",
            "childPolicy",
            "tagList",
            "taskPriority",
            "lambdaRole",
        ] {
            if let Some(v) = a.get(k) {
                body.insert(k.into(), v.clone());
            }
        }
        // The current run stops counting as open while the new one starts.
        self.executions[exec].close_status = Some("CONTINUED_AS_NEW");
        let started = self.start_execution(&body, now, Some(&old_run));
        self.executions[exec].close_status = None;
        let new_run = match started {
            Ok(r) => r,
            Err(WireError::Fault(_, field)) => {
                let cause = match field.as_str() {
                    "executionStartToCloseTimeout" => {
                        "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED"
                    }
                    "taskList" => "DEFAULT_TASK_LIST_UNDEFINED",
                    "taskStartToCloseTimeout" => "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED",
                    "childPolicy" => "DEFAULT_CHILD_POLICY_UNDEFINED",
                    _ => "WORKFLOW_TYPE_DOES_NOT_EXIST",
                };
                return failed(self, cause);
            }
            // The decision's fields were validated before any was applied, so a start
            // cannot fail otherwise; should it, the decider learns that it did not happen.
            Err(_) => return failed(self, "UNHANDLED_DECISION"),
        };
        // The new run is still its parent's child.
        let parent = self.executions[exec].parent;
        if let (Some(p), Some(new)) = (parent, self.executions.last_mut()) {
            new.parent = Some(p);
            let parent_key = self.executions[p.exec].key_json();
            if let Some(Value::Object(attrs)) = self
                .executions
                .last_mut()
                .and_then(|n| n.events.first_mut())
                .and_then(|e| e.get_mut("workflowExecutionStartedEventAttributes"))
            {
                attrs.insert("parentWorkflowExecution".into(), parent_key);
                attrs.insert("parentInitiatedEventId".into(), json!(p.initiated));
            }
        }
        let Some(new) = self.executions.last() else {
            return failed(self, "UNHANDLED_DECISION");
        };
        let mut attrs = json!({
            "decisionTaskCompletedEventId": completed_id,
            "newExecutionRunId": new_run,
            "executionStartToCloseTimeout": new.exec_timeout_s,
            "taskList": {"name": new.task_list},
            "taskStartToCloseTimeout": new.task_timeout_s,
            "childPolicy": new.child_policy,
            "workflowType": new.workflow_type,
        });
        if !new.tag_list.is_empty() {
            attrs["tagList"] = json!(new.tag_list);
        }
        if let Some(p) = &new.priority {
            attrs["taskPriority"] = json!(p);
        }
        if let Some(i) = s(a, "input") {
            attrs["input"] = json!(i);
        }
        let e = &mut self.executions[exec];
        e.event("WorkflowExecutionContinuedAsNew", now, attrs);
        e.close_with("CONTINUED_AS_NEW", now);
        false
    }
}
