//! Executions and their history: start, describe, history, cancel requests, signals, termination.

use super::*;

/// SWF's message for an execution that does not exist (or is not open): with a run ID,
/// `Unknown execution: WorkflowExecution=[workflowId=ID, runId=RUN]`; without,
/// `Unknown execution, workflowId = ID` (moto's text, the only public evidence).
fn unknown_execution(wid: &str, rid: Option<&str>) -> String {
    match rid {
        Some(r) => format!("Unknown execution: WorkflowExecution=[workflowId={wid}, runId={r}]"),
        None => format!("Unknown execution, workflowId = {wid}"),
    }
}

impl State {
    pub(super) fn find_exec(&self, domain: &str, exec: &Obj) -> Result<usize, WireError> {
        let wid = req_s(exec, "workflowId")?;
        let rid = s(exec, "runId");
        self.executions
            .iter()
            .rposition(|e| {
                e.domain == domain && e.workflow_id == wid && rid.is_none_or(|r| r == e.run_id)
            })
            .ok_or_else(|| fault(Fault::UnknownResourceFault, unknown_execution(wid, rid)))
    }

    pub(super) fn find_open(
        &self,
        domain: &str,
        wid: &str,
        rid: Option<&str>,
    ) -> Result<usize, WireError> {
        self.executions
            .iter()
            .rposition(|e| {
                e.domain == domain
                    && e.workflow_id == wid
                    && e.open()
                    && rid.is_none_or(|r| r == e.run_id)
            })
            .ok_or_else(|| fault(Fault::UnknownResourceFault, unknown_execution(wid, rid)))
    }

    /// StartWorkflowExecution.
    pub fn start_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let run_id = self.start_execution(b, now, None)?;
        Ok(json!({"runId": run_id}))
    }

    /// Starts an execution from a StartWorkflowExecution-shaped body; `continued` is the
    /// run it continues (ContinueAsNew: `continuedExecutionRunId`). Returns the run ID.
    pub(super) fn start_execution(
        &mut self,
        b: &Obj,
        now: f64,
        continued: Option<&str>,
    ) -> Result<String, WireError> {
        let domain = req_s(b, "domain")?;
        let wid = req_s(b, "workflowId")?;
        check_name("workflowId", wid)?;
        let wt = obj(b, "workflowType").ok_or_else(|| missing("workflowType"))?;
        let (name, version) = (req_s(wt, "name")?, req_s(wt, "version")?);
        max_len(b, "input", 32768)?;
        let tags: Vec<String> = match b.get("tagList") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        if tags.len() > 5 {
            return Err(validation("tagList may have at most 5 entries"));
        }
        let d = self.domain(domain)?;
        let t = d
            .workflow_types
            .get(&(name.to_owned(), version.to_owned()))
            .ok_or_else(|| {
                fault(
                    Fault::UnknownResourceFault,
                    format!("Unknown type: WorkflowType=[name={name}, version={version}]"),
                )
            })?;
        if t.deprecated || d.deprecated {
            return Err(fault(
                Fault::TypeDeprecatedFault,
                format!("WorkflowType=[name={name}, version={version}]"),
            ));
        }
        let pick = |field: &str, default: &str| -> Option<String> {
            s(b, field)
                .map(str::to_owned)
                .or_else(|| s(&t.config, default).map(str::to_owned))
        };
        let exec_timeout = pick(
            "executionStartToCloseTimeout",
            "defaultExecutionStartToCloseTimeout",
        )
        .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "executionStartToCloseTimeout"))?;
        let task_list = obj(b, "taskList")
            .and_then(|t| s(t, "name"))
            .or_else(|| obj(&t.config, "defaultTaskList").and_then(|t| s(t, "name")))
            .map(str::to_owned)
            .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "taskList"))?;
        let task_timeout = pick("taskStartToCloseTimeout", "defaultTaskStartToCloseTimeout")
            .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "taskStartToCloseTimeout"))?;
        let child_policy = pick("childPolicy", "defaultChildPolicy")
            .ok_or_else(|| fault(Fault::DefaultUndefinedFault, "childPolicy"))?;
        let lambda_role = pick("lambdaRole", "defaultLambdaRole");
        let exec_secs = parse_timeout("executionStartToCloseTimeout", &exec_timeout)?
            .ok_or_else(|| validation("executionStartToCloseTimeout must not be NONE"))?;
        if exec_secs > 31_536_000.0 {
            return Err(validation(
                "executionStartToCloseTimeout must be at most one year",
            ));
        }
        let task_secs = parse_timeout("taskStartToCloseTimeout", &task_timeout)?;
        if self
            .executions
            .iter()
            .any(|e| e.domain == domain && e.workflow_id == wid && e.open())
        {
            return Err(fault(
                Fault::WorkflowExecutionAlreadyStartedFault,
                // SWF's text as moto, the only public evidence, gives it.
                "Already Started".to_owned(),
            ));
        }
        let run_id = new_run_id();
        let priority = s(b, "taskPriority").map(str::to_owned);
        let mut e = Execution {
            domain: domain.to_owned(),
            workflow_id: wid.to_owned(),
            run_id: run_id.clone(),
            workflow_type: json!({"name": name, "version": version}),
            task_list: task_list.clone(),
            child_policy: child_policy.clone(),
            exec_timeout_s: exec_timeout.clone(),
            task_timeout_s: task_timeout.clone(),
            exec_deadline: Some(now + exec_secs),
            task_timeout: task_secs,
            tag_list: tags.clone(),
            priority: priority.clone(),
            start: now,
            close: None,
            close_status: None,
            cancel_requested: false,
            events: Vec::new(),
            decision: DecisionState::None,
            pending_decision: false,
            activities: BTreeMap::new(),
            timers: BTreeMap::new(),
            latest_context: None,
            latest_activity_at: None,
            previous_started: 0,
            parent: None,
            lambda_role: lambda_role.clone(),
        };
        let mut attrs = json!({
            "executionStartToCloseTimeout": exec_timeout,
            "taskStartToCloseTimeout": task_timeout,
            "childPolicy": child_policy,
            "taskList": {"name": task_list},
            "workflowType": {"name": name, "version": version},
        });
        if let Some(i) = s(b, "input") {
            attrs["input"] = json!(i);
        }
        if !tags.is_empty() {
            attrs["tagList"] = json!(tags);
        }
        if let Some(p) = priority {
            attrs["taskPriority"] = json!(p);
        }
        if let Some(c) = continued {
            attrs["continuedExecutionRunId"] = json!(c);
        }
        if let Some(r) = &lambda_role {
            attrs["lambdaRole"] = json!(r);
        }
        e.event("WorkflowExecutionStarted", now, attrs);
        e.schedule_decision(now);
        self.executions.push(e);
        Ok(run_id)
    }

    pub(super) fn execution_info(&self, e: &Execution) -> Value {
        let mut v = json!({
            "execution": e.key_json(),
            "workflowType": e.workflow_type,
            "startTimestamp": e.start,
            "executionStatus": if e.open() { "OPEN" } else { "CLOSED" },
            "cancelRequested": e.cancel_requested,
        });
        if let Some(c) = e.close {
            v["closeTimestamp"] = json!(c);
        }
        if let Some(c) = e.close_status {
            v["closeStatus"] = json!(c);
        }
        if !e.tag_list.is_empty() {
            v["tagList"] = json!(e.tag_list);
        }
        if let Some(p) = e.parent.and_then(|p| self.executions.get(p.exec)) {
            v["parent"] = p.key_json();
        }
        v
    }

    /// DescribeWorkflowExecution.
    pub fn describe_workflow_execution(&self, b: &Obj) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let i = self.find_exec(
            domain,
            obj(b, "execution").ok_or_else(|| missing("execution"))?,
        )?;
        let e = &self.executions[i];
        let open_activities = e.activities.len();
        let open_decisions = usize::from(e.decision != DecisionState::None);
        let mut cfg = json!({
            "taskStartToCloseTimeout": e.task_timeout_s,
            "executionStartToCloseTimeout": e.exec_timeout_s,
            "taskList": {"name": e.task_list},
            "childPolicy": e.child_policy,
        });
        if let Some(p) = &e.priority {
            cfg["taskPriority"] = json!(p);
        }
        if let Some(r) = &e.lambda_role {
            cfg["lambdaRole"] = json!(r);
        }
        let mut v = json!({
            "executionInfo": self.execution_info(e),
            "executionConfiguration": cfg,
            "openCounts": {
                "openActivityTasks": open_activities,
                "openDecisionTasks": open_decisions,
                "openTimers": e.timers.len(),
                "openChildWorkflowExecutions": self.open_children(i),
                "openLambdaFunctions": 0,
            },
        });
        if let Some(t) = e.latest_activity_at {
            v["latestActivityTaskTimestamp"] = json!(t);
        }
        if let Some(c) = &e.latest_context {
            v["latestExecutionContext"] = json!(c);
        }
        Ok(v)
    }

    /// GetWorkflowExecutionHistory.
    pub fn get_workflow_execution_history(&self, b: &Obj) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let i = self.find_exec(
            domain,
            obj(b, "execution").ok_or_else(|| missing("execution"))?,
        )?;
        let events = self.executions[i].events.clone();
        paged(events, b, "events")
    }

    /// RequestCancelWorkflowExecution.
    pub fn request_cancel_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let i = self.find_open(domain, req_s(b, "workflowId")?, s(b, "runId"))?;
        let e = &mut self.executions[i];
        if !e.cancel_requested {
            e.cancel_requested = true;
            e.event("WorkflowExecutionCancelRequested", now, json!({}));
            e.schedule_decision(now);
        }
        Ok(json!({}))
    }

    /// SignalWorkflowExecution.
    pub fn signal_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let signal = req_s(b, "signalName")?;
        max_len(b, "input", 32768)?;
        let i = self.find_open(domain, req_s(b, "workflowId")?, s(b, "runId"))?;
        let e = &mut self.executions[i];
        let mut attrs = json!({"signalName": signal});
        if let Some(inp) = s(b, "input") {
            attrs["input"] = json!(inp);
        }
        e.event("WorkflowExecutionSignaled", now, attrs);
        e.schedule_decision(now);
        Ok(json!({}))
    }

    /// TerminateWorkflowExecution.
    pub fn terminate_workflow_execution(&mut self, b: &Obj, now: f64) -> Res {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        max_len(b, "reason", 256)?;
        max_len(b, "details", 32768)?;
        let i = self.find_open(domain, req_s(b, "workflowId")?, s(b, "runId"))?;
        let e = &mut self.executions[i];
        let policy = s(b, "childPolicy").unwrap_or(&e.child_policy).to_owned();
        let mut attrs = json!({"childPolicy": policy, "cause": "OPERATOR_INITIATED"});
        if let Some(r) = s(b, "reason") {
            attrs["reason"] = json!(r);
        }
        if let Some(d) = s(b, "details") {
            attrs["details"] = json!(d);
        }
        e.event("WorkflowExecutionTerminated", now, attrs);
        e.close_with("TERMINATED", now);
        self.after_close(i, now, Some(policy));
        Ok(json!({}))
    }
}
