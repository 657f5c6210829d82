//! Witnesses: a concrete request of a cell, written as a `check --requests` line that
//! decides it again.

use super::*;

/// The `check --requests` line of a cell: replaying it with `check` decides it again.
pub(super) fn witness(
    side: &Side<'_>,
    space: &Space,
    at: &[usize],
    action: &str,
    opts: &Options,
) -> Value {
    let mut o = Map::new();
    o.insert("principal".into(), json!(side.principal.principal.arn));
    o.insert("action".into(), json!(action));
    o.insert("resource".into(), json!(space.resources[at[0]].arn));
    let mut ctx = Map::new();
    let secs = space.time.get(at[1]).map_or(opts.now, |t| t.secs);
    // A decision carries the request defaults but no `aws:SecureTransport`: `check` is
    // told exactly which keys it has.
    let decision =
        opts.request_defaults && crate::swf::catalog::action(action).is_some_and(|a| a.decision);
    if decision {
        ctx.insert("aws:RequestedRegion".into(), json!(space.region));
        // The time only where a policy reads it (the replay decides alike without).
        if side.set().reads_time() {
            ctx.insert(
                "aws:CurrentTime".into(),
                json!(crate::values::format_iso8601(secs)),
            );
            ctx.insert("aws:EpochTime".into(), json!(secs.to_string()));
        }
        ctx.insert("aws:ViaAWSService".into(), json!("false"));
    } else if opts.request_defaults
        && space.resources[at[0]].arn == "*"
        && space.region != opts.default_region
    {
        ctx.insert("aws:RequestedRegion".into(), json!(space.region));
    }
    for (k, &i) in space.keys.iter().zip(&at[2..]) {
        match k.values.get(i).and_then(|v| v.value.as_ref()) {
            Some(ContextValue::Single(s)) => {
                ctx.insert(k.display.clone(), json!(s));
            }
            Some(ContextValue::Multi(v)) => {
                ctx.insert(k.display.clone(), json!(v));
            }
            None => {}
        }
    }
    if !ctx.is_empty() {
        o.insert("context".into(), Value::Object(ctx));
    }
    if opts.request_defaults && !decision {
        // The time only where a policy reads it: a witness (and a snapshot of it) does
        // not depend on when it was found otherwise.
        if side.set().reads_time() {
            o.insert("now".into(), json!(crate::values::format_iso8601(secs)));
        }
    } else {
        o.insert("defaultContext".into(), json!(false));
    }
    Value::Object(o)
}
