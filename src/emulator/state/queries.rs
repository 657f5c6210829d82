//! Visibility of executions: List/Count Open/Closed WorkflowExecutions, with every
//! filter SWF accepts (start or close time, execution, type, tag, close status),
//! `reverseOrder` and paging.

use super::{missing, obj, paged, req_s, s, validation, Execution, Obj, Res, State};
use crate::swf::wire::WireError;
use serde_json::{json, Value};

/// A time filter: `oldestDate` (required) and `latestDate`.
fn time_filter(b: &Obj, key: &str) -> Result<Option<(f64, Option<f64>)>, WireError> {
    let Some(f) = obj(b, key) else {
        return Ok(None);
    };
    let oldest = f
        .get("oldestDate")
        .and_then(Value::as_f64)
        .ok_or_else(|| missing(&format!("{key}.oldestDate")))?;
    Ok(Some((oldest, f.get("latestDate").and_then(Value::as_f64))))
}

const CLOSE_STATUSES: [&str; 6] = [
    "COMPLETED",
    "FAILED",
    "CANCELED",
    "TERMINATED",
    "CONTINUED_AS_NEW",
    "TIMED_OUT",
];

impl State {
    /// The executions of a visibility request, in SWF's order: descending by start time
    /// (by close time with `closeTimeFilter`); `paged` reverses it for `reverseOrder`.
    fn query(&self, b: &Obj, open: bool) -> Result<Vec<&Execution>, WireError> {
        let domain = req_s(b, "domain")?;
        self.domain(domain)?;
        let start = time_filter(b, "startTimeFilter")?;
        let close = if open {
            None
        } else {
            time_filter(b, "closeTimeFilter")?
        };
        if open && start.is_none() {
            return Err(missing("startTimeFilter"));
        }
        if !open && start.is_some() == close.is_some() {
            return Err(validation(
                "give exactly one of startTimeFilter and closeTimeFilter",
            ));
        }
        let filters: &[&str] = if open {
            &["typeFilter", "tagFilter", "executionFilter"]
        } else {
            &[
                "typeFilter",
                "tagFilter",
                "executionFilter",
                "closeStatusFilter",
            ]
        };
        if filters.iter().filter(|k| b.contains_key(**k)).count() > 1 {
            return Err(validation(format!(
                "{} are mutually exclusive: give at most one",
                filters.join(", ")
            )));
        }
        let tf = obj(b, "typeFilter");
        if let Some(t) = tf {
            req_s(t, "name")?;
        }
        let tag = obj(b, "tagFilter").map(|t| req_s(t, "tag")).transpose()?;
        let wid = obj(b, "executionFilter")
            .map(|t| req_s(t, "workflowId"))
            .transpose()?;
        let status = if open {
            None
        } else {
            obj(b, "closeStatusFilter")
                .map(|t| req_s(t, "status"))
                .transpose()?
        };
        if let Some(st) = status {
            if !CLOSE_STATUSES.contains(&st) {
                return Err(validation(format!(
                    "Value '{st}' at 'closeStatusFilter.status' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    CLOSE_STATUSES.join(", ")
                )));
            }
        }
        let within = |t: f64, f: Option<(f64, Option<f64>)>| {
            f.is_none_or(|(oldest, latest)| t >= oldest && latest.is_none_or(|l| t <= l))
        };
        let by_close = close.is_some();
        let mut list: Vec<&Execution> = self
            .executions
            .iter()
            .filter(|e| e.domain == domain && e.open() == open)
            .filter(|e| within(e.start, start))
            .filter(|e| close.is_none() || e.close.is_some_and(|c| within(c, close)))
            .filter(|e| {
                tf.is_none_or(|t| {
                    s(t, "name").is_some_and(|n| e.workflow_type["name"] == n)
                        && s(t, "version").is_none_or(|v| e.workflow_type["version"] == v)
                })
            })
            .filter(|e| tag.is_none_or(|t| e.tag_list.iter().any(|x| x == t)))
            .filter(|e| wid.is_none_or(|w| e.workflow_id == w))
            .filter(|e| status.is_none_or(|st| e.close_status == Some(st)))
            .collect();
        let key = |e: &Execution| {
            if by_close {
                e.close.unwrap_or(e.start)
            } else {
                e.start
            }
        };
        list.sort_by(|x, y| key(y).total_cmp(&key(x)));
        // `paged` applies `reverseOrder`.
        Ok(list)
    }

    /// ListOpenWorkflowExecutions.
    pub fn list_open_workflow_executions(&self, b: &Obj) -> Res {
        let list = self.query(b, true)?;
        paged(
            list.into_iter().map(|e| self.execution_info(e)).collect(),
            b,
            "executionInfos",
        )
    }

    /// ListClosedWorkflowExecutions.
    pub fn list_closed_workflow_executions(&self, b: &Obj) -> Res {
        let list = self.query(b, false)?;
        paged(
            list.into_iter().map(|e| self.execution_info(e)).collect(),
            b,
            "executionInfos",
        )
    }

    /// CountOpenWorkflowExecutions (never truncated).
    pub fn count_open_workflow_executions(&self, b: &Obj) -> Res {
        Ok(json!({"count": self.query(b, true)?.len(), "truncated": false}))
    }

    /// CountClosedWorkflowExecutions (never truncated).
    pub fn count_closed_workflow_executions(&self, b: &Obj) -> Res {
        Ok(json!({"count": self.query(b, false)?.len(), "truncated": false}))
    }
}
