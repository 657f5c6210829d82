//! Decisions that reach another execution: SignalExternalWorkflowExecution and
//! RequestCancelExternalWorkflowExecution, with the events SWF records on both sides.

use super::{s, Obj, State};
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
