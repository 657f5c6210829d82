//! The state as the store's rows ([`crate::store`]): what changed since the last commit,
//! and a region rebuilt from its rows at start-up.

use super::*;
use crate::store::{ExecutionRows, RegionRows};

/// SWF's close statuses: a stored one must be one of them.
const CLOSE_STATUSES: [&str; 6] = [
    "COMPLETED",
    "FAILED",
    "CANCELED",
    "TERMINATED",
    "CONTINUED_AS_NEW",
    "TIMED_OUT",
];

/// `close_status` as a string; on reading, one of SWF's close statuses.
pub(super) mod close_status {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<&'static str>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
        let v: Option<String> = Option::deserialize(d)?;
        match v {
            None => Ok(None),
            Some(x) => super::CLOSE_STATUSES
                .iter()
                .find(|s| **s == x)
                .map(|s| Some(*s))
                .ok_or_else(|| serde::de::Error::custom(format!("unknown close status `{x}`"))),
        }
    }
}

/// A domain's types, keyed by (name, version), as a list of types.
pub(super) mod type_map {
    use super::TypeInfo;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        m: &BTreeMap<(String, String), TypeInfo>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.values().collect::<Vec<_>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(String, String), TypeInfo>, D::Error> {
        let v: Vec<TypeInfo> = Vec::deserialize(d)?;
        Ok(v.into_iter()
            .map(|t| ((t.name.clone(), t.version.clone()), t))
            .collect())
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| format!("cannot write the state: {e}"))
}

impl State {
    /// What changed since the last call, as rows of `region` (empty when nothing did);
    /// afterwards nothing counts as changed.
    pub fn take_changes(&mut self, region: &str) -> Result<RegionRows, String> {
        let mut rows = RegionRows {
            region: region.to_owned(),
            ..RegionRows::default()
        };
        for name in self.domains.take_dirty() {
            if let Some(d) = self.domains.get(&name) {
                rows.domains.push((name, to_json(d)?));
            }
        }
        for i in self.executions.take_dirty() {
            let Some(e) = self.executions.get(i) else {
                continue;
            };
            let saved = self.executions.saved_events.get(i).copied().unwrap_or(0);
            let mut events = Vec::with_capacity(e.events.len().saturating_sub(saved));
            for (n, ev) in e.events.iter().enumerate().skip(saved) {
                events.push((n as u64 + 1, to_json(ev)?));
            }
            rows.executions.push(ExecutionRows {
                index: i as u64,
                body: to_json(e)?,
                events,
            });
            let len = e.events.len();
            let saved_events = &mut self.executions.saved_events;
            if saved_events.len() <= i {
                saved_events.resize(i + 1, 0);
            }
            saved_events[i] = len;
        }
        for token in self.tokens.take_new() {
            if let Some(r) = self.tokens.get(&token) {
                rows.tokens.push((token, to_json(r)?));
            }
        }
        Ok(rows)
    }

    /// A region's state rebuilt from its rows: domains, executions with their histories
    /// (event IDs 1, 2, ... without gaps), and tokens (each naming an execution there).
    pub fn restore(partition: &str, account: &str, rows: &RegionRows) -> Result<State, String> {
        let bad = |what: String| format!("region {}: {what}", rows.region);
        let mut domains = BTreeMap::new();
        for (name, body) in &rows.domains {
            let d: Domain =
                serde_json::from_str(body).map_err(|e| bad(format!("domain `{name}`: {e}")))?;
            if &d.name != name {
                return Err(bad(format!(
                    "domain row `{name}` holds domain `{}`",
                    d.name
                )));
            }
            domains.insert(name.clone(), d);
        }
        let mut executions = Vec::with_capacity(rows.executions.len());
        for (n, x) in rows.executions.iter().enumerate() {
            if x.index != n as u64 {
                return Err(bad(format!("execution {n} is missing (found {})", x.index)));
            }
            let mut e: Execution = serde_json::from_str(&x.body)
                .map_err(|err| bad(format!("execution {n}: {err}")))?;
            e.events = Vec::with_capacity(x.events.len());
            for (k, (id, body)) in x.events.iter().enumerate() {
                if *id != k as u64 + 1 {
                    return Err(bad(format!(
                        "execution {n} ({}): event {} is missing",
                        e.workflow_id,
                        k + 1
                    )));
                }
                e.events.push(
                    serde_json::from_str(body)
                        .map_err(|err| bad(format!("execution {n} event {id}: {err}")))?,
                );
            }
            executions.push(e);
        }
        let count = executions.len();
        if let Some(p) = executions
            .iter()
            .filter_map(|e| e.parent)
            .find(|p| p.exec >= count)
        {
            return Err(bad(format!(
                "a child names parent execution {}, which is not there",
                p.exec
            )));
        }
        let mut tokens = std::collections::HashMap::with_capacity(rows.tokens.len());
        for (token, body) in &rows.tokens {
            let r: TokenRef =
                serde_json::from_str(body).map_err(|e| bad(format!("task token: {e}")))?;
            let (TokenRef::Decision { exec, .. } | TokenRef::Activity { exec, .. }) = r;
            if exec >= count {
                return Err(bad(format!(
                    "a task token names execution {exec}, which is not there"
                )));
            }
            tokens.insert(token.clone(), r);
        }
        Ok(State {
            domains: tracked::Domains::restored(domains),
            executions: tracked::Execs::restored(executions),
            tokens: tracked::Tokens::restored(tokens),
            arn_prefix: (
                partition.to_owned(),
                rows.region.clone(),
                account.to_owned(),
            ),
        })
    }

    /// How many executions and history events the state holds.
    pub fn size(&self) -> (usize, usize) {
        (
            self.executions.len(),
            self.executions.iter().map(|e| e.events.len()).sum(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(v: Value) -> Obj {
        v.as_object().cloned().unwrap_or_default()
    }

    /// A region with a domain, a workflow type and one started execution.
    fn region() -> State {
        let mut st = State::new("aws", "us-east-1", "123456789012");
        st.register_domain(&o(
            json!({"name": "orders", "workflowExecutionRetentionPeriodInDays": "1"}),
        ))
        .unwrap();
        st.register_workflow_type(
            &o(json!({"domain": "orders", "name": "wf", "version": "1", "defaultTaskList": {"name": "d"},
                "defaultExecutionStartToCloseTimeout": "3600", "defaultTaskStartToCloseTimeout": "60",
                "defaultChildPolicy": "TERMINATE"})),
            100.0,
        )
        .unwrap();
        st.start_workflow_execution(
            &o(json!({"domain": "orders", "workflowId": "w1", "workflowType": {"name": "wf", "version": "1"}})),
            100.0,
        )
        .unwrap();
        st
    }

    #[test]
    fn changes_become_rows_once_and_rows_become_the_same_state() {
        let mut st = region();
        let rows = st.take_changes("us-east-1").unwrap();
        assert_eq!(rows.domains.len(), 1);
        assert_eq!(rows.executions.len(), 1);
        assert_eq!(rows.executions[0].events.len(), 2);
        // Nothing changed since: nothing to write.
        assert!(st.take_changes("us-east-1").unwrap().is_empty());
        // A read changes nothing either.
        st.list_domains(&o(json!({"registrationStatus": "REGISTERED"})))
            .unwrap();
        assert!(st.take_changes("us-east-1").unwrap().is_empty());
        let back = State::restore("aws", "123456789012", &rows).unwrap();
        let ask = json!({"domain": "orders", "execution": {"workflowId": "w1", "runId": st.executions[0].run_id}});
        assert_eq!(
            back.get_workflow_execution_history(&o(ask.clone()))
                .unwrap(),
            st.get_workflow_execution_history(&o(ask.clone())).unwrap()
        );
        assert_eq!(
            back.describe_workflow_execution(&o(ask.clone())).unwrap(),
            st.describe_workflow_execution(&o(ask)).unwrap()
        );
        // A timeout that falls due marks its execution, and only its new events are rows.
        let mut back = back;
        assert!(back.process_timeouts(100.0 + 3600.0));
        let rows = back.take_changes("us-east-1").unwrap();
        assert_eq!(rows.executions.len(), 1);
        assert_eq!(
            rows.executions[0]
                .events
                .iter()
                .map(|e| e.0)
                .collect::<Vec<_>>(),
            [3]
        );
    }

    #[test]
    fn an_inconsistent_file_is_refused_with_what_is_wrong() {
        let mut st = region();
        let rows = st.take_changes("us-east-1").unwrap();
        let refuse = |rows: &RegionRows, what: &str| {
            let e = State::restore("aws", "123456789012", rows).unwrap_err();
            assert!(e.contains(what), "{e}");
        };
        let mut gap = rows.clone();
        gap.executions[0].events.remove(0);
        refuse(&gap, "event 1 is missing");
        let mut status = rows.clone();
        status.executions[0].body = status.executions[0]
            .body
            .replace("\"close_status\":null", "\"close_status\":\"EXPLODED\"");
        refuse(&status, "unknown close status `EXPLODED`");
        let mut token = rows.clone();
        token.tokens.push((
            "AAAAx".into(),
            "{\"Activity\":{\"exec\":7,\"scheduled_id\":1}}".into(),
        ));
        refuse(&token, "names execution 7");
        let mut missing = rows.clone();
        missing.executions[0].index = 3;
        refuse(&missing, "execution 0 is missing");
        let mut domain = rows;
        domain.domains[0].0 = "billing".into();
        refuse(&domain, "holds domain `orders`");
    }
}
