//! Decisions: the decision task a token names, validation, and each decision applied or denied.

use super::*;

impl State {
    /// The execution and started decision task of a decision token.
    pub fn decision_task(&self, token: &str) -> Result<usize, WireError> {
        match self.tokens.get(token) {
            Some(TokenRef::Decision { exec, scheduled_id }) => {
                let e = self.open_execution(*exec)?;
                match &e.decision {
                    DecisionState::Started {
                        scheduled_id: s2,
                        token: t,
                        ..
                    } if s2 == scheduled_id && t == token => Ok(*exec),
                    _ => Err(fault(
                        Fault::UnknownResourceFault,
                        format!("Unknown decision task, scheduledEventId = {scheduled_id}"),
                    )),
                }
            }
            _ => Err(validation("Invalid token")),
        }
    }

    /// Checks the structure of `decisions` before anything is applied.
    pub fn validate_decisions(decisions: &[Value]) -> Result<(), WireError> {
        let close = [
            "CompleteWorkflowExecution",
            "FailWorkflowExecution",
            "CancelWorkflowExecution",
            "ContinueAsNewWorkflowExecution",
        ];
        for (n, d) in decisions.iter().enumerate() {
            let m = n + 1;
            let ty = d.get("decisionType").and_then(Value::as_str).ok_or_else(|| {
                validation(format!("1 validation error detected: Value null at 'decisions.{m}.member.decisionType' failed to satisfy constraint: Member must not be null"))
            })?;
            let key = attrs_key(ty);
            let empty = Map::new();
            let attrs = d.get(&key).and_then(Value::as_object).unwrap_or(&empty);
            let need = |field: &str| -> Result<(), WireError> {
                let mut cur: Option<&Value> = Some(&Value::Object(attrs.clone()));
                for p in field.split('.') {
                    cur = cur.and_then(|v| v.get(p));
                }
                match cur {
                    Some(Value::String(_)) => Ok(()),
                    _ => Err(validation(format!(
                        "1 validation error detected: Value null at 'decisions.{m}.member.{key}.{field}' failed to satisfy constraint: Member must not be null"
                    ))),
                }
            };
            match ty {
                "ScheduleActivityTask" => {
                    need("activityType.name")?;
                    need("activityType.version")?;
                    need("activityId")?;
                }
                "RequestCancelActivityTask" => need("activityId")?,
                "RecordMarker" => need("markerName")?,
                "StartTimer" => {
                    need("timerId")?;
                    need("startToFireTimeout")?;
                }
                "CancelTimer" => need("timerId")?,
                "CompleteWorkflowExecution"
                | "FailWorkflowExecution"
                | "CancelWorkflowExecution" => {}
                "SignalExternalWorkflowExecution" => {
                    need("workflowId")?;
                    need("signalName")?;
                }
                "RequestCancelExternalWorkflowExecution" => need("workflowId")?,
                "ContinueAsNewWorkflowExecution" => Self::validate_start_settings(attrs, m, &key)?,
                "StartChildWorkflowExecution" => {
                    need("workflowType.name")?;
                    need("workflowType.version")?;
                    need("workflowId")?;
                    Self::validate_start_settings(attrs, m, &key)?;
                }
                "ScheduleLambdaFunction" => {
                    need("id")?;
                    need("name")?;
                }
                other => {
                    return Err(validation(format!(
                        "Unknown decision type `{other}` at decisions.{m}"
                    )))
                }
            }
            if close.contains(&ty) && m != decisions.len() {
                return Err(validation(format!("{ty} must be the last decision")));
            }
        }
        Ok(())
    }

    /// Checks the settings a decision that starts an execution carries (timeouts, input,
    /// tags) before any decision is applied.
    pub(super) fn validate_start_settings(
        attrs: &Obj,
        m: usize,
        key: &str,
    ) -> Result<(), WireError> {
        for f in ["executionStartToCloseTimeout", "taskStartToCloseTimeout"] {
            if let Some(v) = s(attrs, f) {
                parse_timeout(f, v)?;
            }
        }
        if let Some(v) = s(attrs, "input") {
            if v.chars().count() > 32768 {
                return Err(validation(format!("1 validation error detected: Value at 'decisions.{m}.member.{key}.input' failed to satisfy constraint: Member must have length less than or equal to 32768")));
            }
        }
        if attrs
            .get("tagList")
            .and_then(Value::as_array)
            .is_some_and(|t| t.len() > 5)
        {
            return Err(validation(format!("1 validation error detected: Value at 'decisions.{m}.member.{key}.tagList' failed to satisfy constraint: Member must have length less than or equal to 5")));
        }
        Ok(())
    }

    /// Records `DecisionTaskCompleted` for a started decision task; returns its id.
    pub fn complete_decision_task(
        &mut self,
        exec: usize,
        b: &Obj,
        now: f64,
    ) -> Result<u64, WireError> {
        max_len(b, "executionContext", 32768)?;
        let e = &mut self.executions[exec];
        let DecisionState::Started {
            scheduled_id,
            started_id,
            ..
        } = e.decision.clone()
        else {
            return Err(fault(Fault::UnknownResourceFault, "Unknown decision task"));
        };
        let mut attrs = json!({"scheduledEventId": scheduled_id, "startedEventId": started_id});
        if let Some(c) = s(b, "executionContext") {
            attrs["executionContext"] = json!(c);
            e.latest_context = Some(c.to_owned());
        }
        e.decision = DecisionState::None;
        Ok(e.event("DecisionTaskCompleted", now, attrs))
    }

    /// Records a decision denied by IAM: one `<Decision>Failed` event with cause
    /// `OPERATION_NOT_PERMITTED` and the decision's identifying fields.
    pub fn deny_decision(
        &mut self,
        exec: usize,
        ty: &str,
        attrs: &Obj,
        completed_id: u64,
        now: f64,
    ) {
        let e = &mut self.executions[exec];
        let mut a = Map::new();
        for k in [
            "activityType",
            "activityId",
            "markerName",
            "timerId",
            "workflowId",
            "runId",
            "workflowType",
            "control",
        ] {
            let allowed = match ty {
                "ScheduleActivityTask" => ["activityType", "activityId"].contains(&k),
                "RequestCancelActivityTask" => k == "activityId",
                "RecordMarker" => k == "markerName",
                "StartTimer" | "CancelTimer" => k == "timerId",
                "SignalExternalWorkflowExecution" | "RequestCancelExternalWorkflowExecution" => {
                    ["workflowId", "runId", "control"].contains(&k)
                }
                "StartChildWorkflowExecution" => {
                    ["workflowType", "workflowId", "control"].contains(&k)
                }
                _ => false,
            };
            if allowed {
                if let Some(v) = attrs.get(k) {
                    a.insert(k.into(), v.clone());
                }
            }
        }
        a.insert("cause".into(), json!("OPERATION_NOT_PERMITTED"));
        a.insert("decisionTaskCompletedEventId".into(), json!(completed_id));
        if ty.ends_with("ExternalWorkflowExecution") || ty == "StartChildWorkflowExecution" {
            // No `*Initiated` event is written for a denied decision.
            a.insert("initiatedEventId".into(), json!(0));
        }
        e.event(&format!("{ty}Failed"), now, Value::Object(a));
    }

    /// Applies one allowed decision. Returns whether it wrote a `*Failed` event.
    pub fn apply_decision(
        &mut self,
        exec: usize,
        ty: &str,
        a: &Obj,
        completed_id: u64,
        now: f64,
    ) -> bool {
        let failed = |e: &mut Execution, cause: &str, extra: Value| {
            decision_failed(e, ty, cause, extra, completed_id, now)
        };
        match ty {
            "SignalExternalWorkflowExecution" | "RequestCancelExternalWorkflowExecution" => {
                self.apply_external(exec, ty, a, completed_id, now)
            }
            "ContinueAsNewWorkflowExecution" => self.continue_as_new(exec, a, completed_id, now),
            "StartChildWorkflowExecution" => self.start_child(exec, a, completed_id, now),
            "ScheduleLambdaFunction" => self.schedule_lambda(exec, a, completed_id, now),
            "ScheduleActivityTask" => self.schedule_activity(exec, a, completed_id, now),
            "RequestCancelActivityTask" => self.request_cancel_activity(exec, a, completed_id, now),
            "CompleteWorkflowExecution" | "FailWorkflowExecution" | "CancelWorkflowExecution" => {
                let e = &mut self.executions[exec];
                if e.pending_decision {
                    return failed(e, "UNHANDLED_DECISION", json!({}));
                }
                let (event, status) = match ty {
                    "CompleteWorkflowExecution" => ("WorkflowExecutionCompleted", "COMPLETED"),
                    "FailWorkflowExecution" => ("WorkflowExecutionFailed", "FAILED"),
                    _ => ("WorkflowExecutionCanceled", "CANCELED"),
                };
                let mut attrs = json!({"decisionTaskCompletedEventId": completed_id});
                for k in ["result", "reason", "details"] {
                    if let Some(v) = s(a, k) {
                        attrs[k] = json!(v);
                    }
                }
                e.event(event, now, attrs);
                e.close_with(status, now);
                self.after_close(exec, now, None);
                false
            }
            "RecordMarker" => {
                let e = &mut self.executions[exec];
                let mut attrs = json!({"markerName": s(a, "markerName").unwrap_or(""), "decisionTaskCompletedEventId": completed_id});
                if let Some(d) = s(a, "details") {
                    attrs["details"] = json!(d);
                }
                e.event("MarkerRecorded", now, attrs);
                false
            }
            "StartTimer" => {
                let e = &mut self.executions[exec];
                let id = s(a, "timerId").unwrap_or("").to_owned();
                if e.timers.contains_key(&id) {
                    return failed(e, "TIMER_ID_ALREADY_IN_USE", json!({"timerId": id}));
                }
                let fire = s(a, "startToFireTimeout").unwrap_or("0");
                let secs = parse_timeout("startToFireTimeout", fire)
                    .ok()
                    .flatten()
                    .unwrap_or(0.0);
                let mut attrs = json!({"timerId": id, "startToFireTimeout": fire, "decisionTaskCompletedEventId": completed_id});
                if let Some(c) = s(a, "control") {
                    attrs["control"] = json!(c);
                }
                let started = e.event("TimerStarted", now, attrs);
                e.timers.insert(
                    id,
                    Timer {
                        started_id: started,
                        fire_at: now + secs,
                    },
                );
                false
            }
            "CancelTimer" => {
                let e = &mut self.executions[exec];
                let id = s(a, "timerId").unwrap_or("").to_owned();
                let Some(t) = e.timers.remove(&id) else {
                    return failed(e, "TIMER_ID_UNKNOWN", json!({"timerId": id}));
                };
                e.event(
                    "TimerCanceled",
                    now,
                    json!({"timerId": id, "startedEventId": t.started_id, "decisionTaskCompletedEventId": completed_id}),
                );
                false
            }
            _ => false,
        }
    }

    /// The `ScheduleActivityTask` decision: the type must exist and be active, the
    /// activity ID free, every timeout and the task list given or defaulted by the type.
    fn schedule_activity(&mut self, exec: usize, a: &Obj, completed_id: u64, now: f64) -> bool {
        let domain = self.executions[exec].domain.clone();
        let failed = |e: &mut Execution, cause: &str, extra: Value| {
            decision_failed(e, "ScheduleActivityTask", cause, extra, completed_id, now)
        };
        let at = a.get("activityType").cloned().unwrap_or(Value::Null);
        let id = s(a, "activityId").unwrap_or("").to_owned();
        let extra = json!({"activityType": at, "activityId": id});
        let name = at.get("name").and_then(Value::as_str).unwrap_or("");
        let version = at.get("version").and_then(Value::as_str).unwrap_or("");
        let t = self
            .domains
            .get(&domain)
            .and_then(|d| d.activity_types.get(&(name.to_owned(), version.to_owned())))
            .cloned();
        let e = &mut self.executions[exec];
        let Some(t) = t else {
            return failed(e, "ACTIVITY_TYPE_DOES_NOT_EXIST", extra);
        };
        if t.deprecated {
            return failed(e, "ACTIVITY_TYPE_DEPRECATED", extra);
        }
        if e.activities.values().any(|x| x.activity_id == id) {
            return failed(e, "ACTIVITY_ID_ALREADY_IN_USE", extra);
        }
        let tl = obj(a, "taskList")
            .and_then(|x| s(x, "name"))
            .or_else(|| obj(&t.config, "defaultTaskList").and_then(|x| s(x, "name")));
        let Some(tl) = tl.map(str::to_owned) else {
            return failed(e, "DEFAULT_TASK_LIST_UNDEFINED", extra);
        };
        let mut resolved = Map::new();
        for (field, default, cause) in [
            (
                "scheduleToStartTimeout",
                "defaultTaskScheduleToStartTimeout",
                "DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED",
            ),
            (
                "scheduleToCloseTimeout",
                "defaultTaskScheduleToCloseTimeout",
                "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED",
            ),
            (
                "startToCloseTimeout",
                "defaultTaskStartToCloseTimeout",
                "DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED",
            ),
            (
                "heartbeatTimeout",
                "defaultTaskHeartbeatTimeout",
                "DEFAULT_HEARTBEAT_TIMEOUT_UNDEFINED",
            ),
        ] {
            let v = s(a, field).or_else(|| s(&t.config, default));
            let Some(v) = v.filter(|v| parse_timeout(field, v).is_ok()) else {
                return failed(e, cause, extra);
            };
            resolved.insert(field.into(), json!(v));
        }
        let secs = |k: &str| {
            resolved
                .get(k)
                .and_then(Value::as_str)
                .and_then(|v| parse_timeout(k, v).ok().flatten())
        };
        let mut attrs = json!({
            "activityType": at,
            "activityId": id,
            "taskList": {"name": tl},
            "decisionTaskCompletedEventId": completed_id,
        });
        for (k, v) in &resolved {
            attrs[k.as_str()] = v.clone();
        }
        for k in ["input", "control"] {
            if let Some(v) = s(a, k) {
                attrs[k] = json!(v);
            }
        }
        let priority = s(a, "taskPriority").or_else(|| s(&t.config, "defaultTaskPriority"));
        if let Some(p) = priority {
            attrs["taskPriority"] = json!(p);
        }
        let sid = e.event("ActivityTaskScheduled", now, attrs);
        e.activities.insert(
            sid,
            Activity {
                activity_id: id,
                activity_type: at,
                task_list: tl,
                input: s(a, "input").map(str::to_owned),
                scheduled_id: sid,
                started_id: None,
                scheduled_at: now,
                started_at: 0.0,
                last_beat: 0.0,
                heartbeat_timeout: secs("heartbeatTimeout"),
                start_to_close: secs("startToCloseTimeout"),
                schedule_to_start: secs("scheduleToStartTimeout"),
                schedule_to_close: secs("scheduleToCloseTimeout"),
                details: None,
                cancel_requested: None,
                token: None,
            },
        );
        false
    }

    /// The `RequestCancelActivityTask` decision: a scheduled task not yet started is
    /// canceled at once; a started one is asked to cancel (its next heartbeat says so).
    fn request_cancel_activity(
        &mut self,
        exec: usize,
        a: &Obj,
        completed_id: u64,
        now: f64,
    ) -> bool {
        let failed = |e: &mut Execution, cause: &str, extra: Value| {
            decision_failed(
                e,
                "RequestCancelActivityTask",
                cause,
                extra,
                completed_id,
                now,
            )
        };
        let id = s(a, "activityId").unwrap_or("").to_owned();
        let e = &mut self.executions[exec];
        let Some(sid) = e
            .activities
            .values()
            .find(|x| x.activity_id == id)
            .map(|x| x.scheduled_id)
        else {
            return failed(e, "ACTIVITY_ID_UNKNOWN", json!({"activityId": id}));
        };
        let req = e.event(
            "ActivityTaskCancelRequested",
            now,
            json!({"decisionTaskCompletedEventId": completed_id, "activityId": id}),
        );
        let started = e.activities.get(&sid).and_then(|x| x.started_id);
        match started {
            None => {
                e.activities.remove(&sid);
                e.event(
                    "ActivityTaskCanceled",
                    now,
                    json!({"scheduledEventId": sid, "startedEventId": 0, "latestCancelRequestedEventId": req}),
                );
                e.pending_decision = true;
            }
            Some(_) => {
                if let Some(x) = e.activities.get_mut(&sid) {
                    x.cancel_requested = Some(req);
                }
            }
        }
        false
    }

    /// After a decision task's decisions: schedule the next decision task if needed.
    pub fn finish_decisions(&mut self, exec: usize, any_failed: bool, now: f64) {
        let e = &mut self.executions[exec];
        if e.open() && (any_failed || e.pending_decision) {
            e.pending_decision = false;
            e.schedule_decision(now);
        }
    }
}

/// Records `<ty>Failed` with `cause` (and the `extra` attributes) for a decision that
/// could not be carried out; `true`: a decision failed.
fn decision_failed(
    e: &mut Execution,
    ty: &str,
    cause: &str,
    extra: Value,
    completed_id: u64,
    now: f64,
) -> bool {
    let mut attrs = extra;
    attrs["cause"] = json!(cause);
    attrs["decisionTaskCompletedEventId"] = json!(completed_id);
    e.event(&format!("{ty}Failed"), now, attrs);
    true
}
