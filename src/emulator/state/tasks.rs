//! Decision and activity tasks: pending counts, polls, heartbeats and activity responses.

use super::*;

impl State {
    /// CountPendingActivityTasks: scheduled, not yet started tasks.
    pub fn count_pending_activity_tasks(&self, b: &Obj) -> Res {
        let (domain, tl) = self.task_list_target(b)?;
        let n = self
            .executions
            .iter()
            .filter(|e| e.domain == domain && e.open())
            .flat_map(|e| e.activities.values())
            .filter(|a| a.task_list == tl && a.started_id.is_none())
            .count();
        Ok(json!({"count": n, "truncated": false}))
    }

    /// CountPendingDecisionTasks.
    pub fn count_pending_decision_tasks(&self, b: &Obj) -> Res {
        let (domain, tl) = self.task_list_target(b)?;
        let n = self
            .executions
            .iter()
            .filter(|e| {
                e.domain == domain
                    && e.open()
                    && e.task_list == tl
                    && matches!(e.decision, DecisionState::Scheduled { .. })
            })
            .count();
        Ok(json!({"count": n, "truncated": false}))
    }

    // ----- polls -----

    /// The `domain` (which must exist) and `taskList.name` of a poll or count; checks
    /// `identity`'s length.
    pub(super) fn task_list_target<'a>(&self, b: &'a Obj) -> Result<(&'a str, &'a str), WireError> {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let tl = obj(b, "taskList")
            .and_then(|t| s(t, "name"))
            .ok_or_else(|| missing("taskList"))?;
        max_len(b, "identity", 256)?;
        Ok((domain, tl))
    }

    /// Starts a task of execution `i`: issues a token and writes `event`
    /// (`DecisionTaskStarted`/`ActivityTaskStarted`) with the poller's identity.
    pub(super) fn start_task(
        &mut self,
        i: usize,
        scheduled_id: u64,
        b: &Obj,
        now: f64,
        event: &str,
    ) -> (String, u64) {
        let mut attrs = json!({"scheduledEventId": scheduled_id});
        if let Some(id) = s(b, "identity") {
            attrs["identity"] = json!(id);
        }
        let started_id = self.executions[i].event(event, now, attrs);
        (new_token(), started_id)
    }

    /// Takes the oldest scheduled decision task of a task list, if any (writes
    /// `DecisionTaskStarted` and issues a token).
    pub fn take_decision_task(&mut self, b: &Obj, now: f64) -> Result<Option<Task>, WireError> {
        let (domain, tl) = self.task_list_target(b)?;
        let pick = self
            .executions
            .iter()
            .enumerate()
            .filter(|(_, e)| e.domain == domain && e.open() && e.task_list == tl)
            .filter_map(|(i, e)| match e.decision {
                DecisionState::Scheduled { scheduled_id, at } => Some((at, i, scheduled_id)),
                _ => None,
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, i, scheduled_id)) = pick else {
            return Ok(None);
        };
        let (token, started_id) = self.start_task(i, scheduled_id, b, now, "DecisionTaskStarted");
        let e = &mut self.executions[i];
        e.decision = DecisionState::Started {
            scheduled_id,
            started_id,
            at: now,
            token: token.clone(),
        };
        let previous = e.previous_started;
        e.previous_started = started_id;
        let mut events = e.events.clone();
        if b.get("reverseOrder").and_then(Value::as_bool) == Some(true) {
            events.reverse();
        }
        let (items, next) = page(events, b, 1000)?;
        let mut v = json!({
            "taskToken": token,
            "startedEventId": started_id,
            "workflowExecution": e.key_json(),
            "workflowType": e.workflow_type,
            "events": items,
            "previousStartedEventId": previous,
        });
        if let Some(n) = next {
            v["nextPageToken"] = json!(n);
        }
        self.tokens.insert(
            token,
            TokenRef::Decision {
                exec: i,
                scheduled_id,
            },
        );
        Ok(Some(Task::Decision(v)))
    }

    /// Takes the oldest scheduled activity task of a task list, if any.
    pub fn take_activity_task(&mut self, b: &Obj, now: f64) -> Result<Option<Task>, WireError> {
        let (domain, tl) = self.task_list_target(b)?;
        let pick = self
            .executions
            .iter()
            .enumerate()
            .filter(|(_, e)| e.domain == domain && e.open())
            .flat_map(|(i, e)| {
                e.activities
                    .values()
                    .filter(|a| a.task_list == tl && a.started_id.is_none())
                    .map(move |a| (a.scheduled_at, i, a.scheduled_id))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((_, i, scheduled_id)) = pick else {
            return Ok(None);
        };
        let (token, started_id) = self.start_task(i, scheduled_id, b, now, "ActivityTaskStarted");
        let e = &mut self.executions[i];
        e.latest_activity_at = Some(now);
        let key = e.key_json();
        let Some(a) = e.activities.get_mut(&scheduled_id) else {
            return Err(WireError::InternalFailure("activity vanished".into()));
        };
        a.started_id = Some(started_id);
        a.started_at = now;
        a.last_beat = now;
        a.token = Some(token.clone());
        let mut v = json!({
            "taskToken": token,
            "activityId": a.activity_id,
            "startedEventId": started_id,
            "workflowExecution": key,
            "activityType": a.activity_type,
        });
        if let Some(i) = &a.input {
            v["input"] = json!(i);
        }
        self.tokens.insert(
            token,
            TokenRef::Activity {
                exec: i,
                scheduled_id,
            },
        );
        Ok(Some(Task::Activity(v)))
    }

    // ----- activity task responses -----

    pub(super) fn activity_of(&self, token: &str) -> Result<(usize, u64), WireError> {
        match self.tokens.get(token) {
            Some(TokenRef::Activity { exec, scheduled_id }) => {
                let e = self.open_execution(*exec)?;
                if !e.activities.contains_key(scheduled_id) {
                    return Err(fault(
                        Fault::UnknownResourceFault,
                        format!("Unknown activity, scheduledEventId = {scheduled_id}"),
                    ));
                }
                Ok((*exec, *scheduled_id))
            }
            _ => Err(validation("Invalid token")),
        }
    }

    /// RecordActivityTaskHeartbeat: resets the heartbeat clock, keeps the details.
    pub fn record_activity_task_heartbeat(&mut self, b: &Obj, now: f64) -> Res {
        let token = req_s(b, "taskToken")?;
        max_len(b, "details", 2048)?;
        let (i, sid) = self.activity_of(token)?;
        let Some(a) = self.executions[i].activities.get_mut(&sid) else {
            return Err(fault(
                Fault::UnknownResourceFault,
                format!("Unknown activity, scheduledEventId = {sid}"),
            ));
        };
        a.last_beat = now;
        if let Some(d) = s(b, "details") {
            a.details = Some(d.to_owned());
        }
        Ok(json!({"cancelRequested": a.cancel_requested.is_some()}))
    }

    pub(super) fn close_activity(&mut self, b: &Obj, now: f64, ty: &str) -> Res {
        let token = req_s(b, "taskToken")?;
        max_len(b, "result", 32768)?;
        max_len(b, "details", 32768)?;
        max_len(b, "reason", 256)?;
        let (i, sid) = self.activity_of(token)?;
        let e = &mut self.executions[i];
        let Some(a) = e.activities.remove(&sid) else {
            return Err(fault(
                Fault::UnknownResourceFault,
                format!("Unknown activity, scheduledEventId = {sid}"),
            ));
        };
        let mut attrs =
            json!({"scheduledEventId": sid, "startedEventId": a.started_id.unwrap_or(0)});
        for k in ["result", "reason", "details"] {
            if let Some(v) = s(b, k) {
                attrs[k] = json!(v);
            }
        }
        if ty == "ActivityTaskCanceled" {
            if let Some(c) = a.cancel_requested {
                attrs["latestCancelRequestedEventId"] = json!(c);
            }
        }
        e.event(ty, now, attrs);
        e.schedule_decision(now);
        Ok(json!({}))
    }

    /// RespondActivityTaskCompleted.
    pub fn respond_activity_task_completed(&mut self, b: &Obj, now: f64) -> Res {
        self.close_activity(b, now, "ActivityTaskCompleted")
    }

    /// RespondActivityTaskFailed.
    pub fn respond_activity_task_failed(&mut self, b: &Obj, now: f64) -> Res {
        self.close_activity(b, now, "ActivityTaskFailed")
    }

    /// RespondActivityTaskCanceled.
    pub fn respond_activity_task_canceled(&mut self, b: &Obj, now: f64) -> Res {
        self.close_activity(b, now, "ActivityTaskCanceled")
    }
}
