//! Timers and timeouts: every deadline due, earliest first.

use super::*;

impl State {
    /// Applies every timeout due at `now`, earliest first, with the deadline as the
    /// event time. Returns whether anything changed (pollers may have work).
    pub fn process_timeouts(&mut self, now: f64) -> bool {
        let mut changed = false;
        let mut timed_out: Vec<(usize, f64)> = Vec::new();
        let mut touched: Vec<usize> = Vec::new();
        for (i, e) in self
            .executions
            .iter_mut_unmarked()
            .enumerate()
            .filter(|(_, e)| e.open())
        {
            loop {
                // (deadline, what)
                let mut due: Option<(f64, Due)> = None;
                let mut consider = |at: f64, what: Due| {
                    if at <= now && due.as_ref().is_none_or(|(d, _)| at < *d) {
                        due = Some((at, what));
                    }
                };
                if let Some(d) = e.exec_deadline {
                    consider(d, Due::Execution);
                }
                if let (DecisionState::Started { at, .. }, Some(t)) = (&e.decision, e.task_timeout)
                {
                    consider(at + t, Due::DecisionTask);
                }
                for a in e.activities.values() {
                    if let Some(t) = a.schedule_to_close {
                        consider(
                            a.scheduled_at + t,
                            Due::Activity(a.scheduled_id, "SCHEDULE_TO_CLOSE"),
                        );
                    }
                    match a.started_id {
                        None => {
                            if let Some(t) = a.schedule_to_start {
                                consider(
                                    a.scheduled_at + t,
                                    Due::Activity(a.scheduled_id, "SCHEDULE_TO_START"),
                                );
                            }
                        }
                        Some(_) => {
                            if let Some(t) = a.start_to_close {
                                consider(
                                    a.started_at + t,
                                    Due::Activity(a.scheduled_id, "START_TO_CLOSE"),
                                );
                            }
                            if let Some(t) = a.heartbeat_timeout {
                                consider(
                                    a.last_beat + t,
                                    Due::Activity(a.scheduled_id, "HEARTBEAT"),
                                );
                            }
                        }
                    }
                }
                for (id, t) in &e.timers {
                    consider(t.fire_at, Due::Timer(id.clone()));
                }
                let Some((at, what)) = due else { break };
                changed = true;
                if touched.last() != Some(&i) {
                    touched.push(i);
                }
                match what {
                    Due::Execution => {
                        let attrs =
                            json!({"timeoutType": "START_TO_CLOSE", "childPolicy": e.child_policy});
                        e.event("WorkflowExecutionTimedOut", at, attrs);
                        e.close_with("TIMED_OUT", at);
                        timed_out.push((i, at));
                        break;
                    }
                    Due::DecisionTask => {
                        if let DecisionState::Started {
                            scheduled_id,
                            started_id,
                            ..
                        } = e.decision.clone()
                        {
                            e.event(
                                "DecisionTaskTimedOut",
                                at,
                                json!({"timeoutType": "START_TO_CLOSE", "scheduledEventId": scheduled_id, "startedEventId": started_id}),
                            );
                            e.decision = DecisionState::None;
                            e.pending_decision = false;
                            e.schedule_decision(at);
                        }
                    }
                    Due::Activity(sid, kind) => {
                        if let Some(a) = e.activities.remove(&sid) {
                            let mut attrs = json!({"timeoutType": kind, "scheduledEventId": sid, "startedEventId": a.started_id.unwrap_or(0)});
                            if kind == "HEARTBEAT" || a.details.is_some() {
                                if let Some(d) = &a.details {
                                    attrs["details"] = json!(d);
                                }
                            }
                            e.event("ActivityTaskTimedOut", at, attrs);
                            e.schedule_decision(at);
                        }
                    }
                    Due::Timer(id) => {
                        if let Some(t) = e.timers.remove(&id) {
                            e.event(
                                "TimerFired",
                                at,
                                json!({"timerId": id, "startedEventId": t.started_id}),
                            );
                            e.schedule_decision(at);
                        }
                    }
                }
            }
        }
        for i in touched {
            self.executions.mark(i);
        }
        // Parents learn of timed-out children; timed-out parents apply their child policy.
        for (i, at) in timed_out {
            self.after_close(i, at, None);
        }
        changed
    }
}

enum Due {
    Execution,
    DecisionTask,
    Activity(u64, &'static str),
    Timer(String),
}
