//! The gate as a tower layer: SigV4, every error shape, authorization, decision-level
//! checks, reload, and a property test that arbitrary requests never panic or allow.

use super::gatekit::*;
use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::Full;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use swf_iam::config::{Config, Secret};
use swf_iam::eval::{Decision, DecisionKind};
use swf_iam::gate::{sigv4, ClientAddr, GateLayer};
use tower::{Layer, ServiceExt};

#[tokio::test]
async fn allowed_heartbeat_reaches_the_inner_service() {
    let (layer, calls) = setup();
    let a = send(
        &layer,
        &calls,
        request(
            "RecordActivityTaskHeartbeat",
            r#"{"taskToken":"tok-orders","details":"50%"}"#,
            AKID,
            SECRET,
            NOW,
        ),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body, serde_json::json!({"cancelRequested": false}));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let d = a.decision.unwrap();
    assert_eq!(d.decision, DecisionKind::Allowed);
    assert_eq!(
        d.resource,
        "arn:aws:swf:us-east-1:123456789012:/domain/orders"
    );
}

#[tokio::test]
async fn denied_heartbeat_is_operation_not_permitted_and_never_reaches_inner() {
    let (layer, calls) = setup();
    for (token, sid) in [("tok-billing", Some("NotBilling")), ("tok-shipping", None)] {
        let a = send(
            &layer,
            &calls,
            request(
                "RecordActivityTaskHeartbeat",
                &format!(r#"{{"taskToken":"{token}"}}"#),
                AKID,
                SECRET,
                NOW,
            ),
        )
        .await;
        assert_eq!(a.status, 400);
        assert_eq!(a.error_type.as_deref(), Some("OperationNotPermittedFault"));
        assert_eq!(
            a.body["__type"],
            "com.amazonaws.swf.base.model#OperationNotPermittedFault"
        );
        let domain = token.strip_prefix("tok-").unwrap();
        let expected = match sid {
            Some(_) => format!("User: arn:aws:sts::123456789012:assumed-role/worker/swf-iam is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/{domain} with an explicit deny in an identity-based policy"),
            None => format!("User: arn:aws:sts::123456789012:assumed-role/worker/swf-iam is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/{domain} because no identity-based policy allows the swf:RecordActivityTaskHeartbeat action"),
        };
        assert_eq!(a.body["message"], expected);
        let d = a.decision.unwrap();
        assert_ne!(d.decision, DecisionKind::Allowed);
        assert_eq!(
            d.matched_statements
                .first()
                .and_then(|m| m.sid.clone())
                .as_deref(),
            sid
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn source_ip_comes_from_the_peer() {
    let (layer, calls) = setup();
    let mut req = request(
        "ListDomains",
        r#"{"registrationStatus":"REGISTERED"}"#,
        AKID,
        SECRET,
        NOW,
    );
    req.extensions_mut()
        .insert(ClientAddr("203.0.113.9:1234".parse().unwrap()));
    let a = send(&layer, &calls, req).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.decision.unwrap().matched_statements[0].sid.as_deref(),
        Some("Net")
    );
    let a = send(
        &layer,
        &calls,
        request(
            "ListDomains",
            r#"{"registrationStatus":"REGISTERED"}"#,
            AKID,
            SECRET,
            NOW,
        ),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.decision.unwrap().resource,
        "arn:aws:swf:us-east-1:123456789012:/domain/*",
        "ListDomains is authorized on the domain named `*` of the request's region"
    );
}

#[tokio::test]
async fn authentication_errors_have_aws_shapes() {
    let (layer, calls) = setup();
    let body = r#"{"taskToken":"tok-orders"}"#;
    type Case<'a> = (Request<Full<Bytes>>, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            request(
                "RecordActivityTaskHeartbeat",
                body,
                "AKIAUNKNOWN",
                SECRET,
                NOW,
            ),
            "com.amazon.coral.service#UnrecognizedClientException",
            Some("The security token included in the request is invalid."),
        ),
        (
            request("RecordActivityTaskHeartbeat", body, AKID, "wrong", NOW),
            "com.amazon.coral.service#InvalidSignatureException",
            Some(swf_iam::swf::wire::MSG_BAD_SIGNATURE),
        ),
        (
            request(
                "RecordActivityTaskHeartbeat",
                body,
                AKID,
                SECRET,
                NOW - 3600,
            ),
            "com.amazon.coral.service#InvalidSignatureException",
            None,
        ),
        (
            {
                let mut r = request("RecordActivityTaskHeartbeat", body, AKID, SECRET, NOW);
                r.headers_mut().remove("authorization");
                r
            },
            "com.amazon.coral.service#MissingAuthenticationTokenException",
            Some("Request is missing Authentication Token"),
        ),
        (
            {
                let mut r = request("RecordActivityTaskHeartbeat", body, AKID, SECRET, NOW);
                r.headers_mut().insert(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=x".parse().unwrap(),
                );
                r
            },
            "com.amazon.coral.service#IncompleteSignatureException",
            None,
        ),
        (
            {
                // The body changed after signing.
                let r = request("RecordActivityTaskHeartbeat", body, AKID, SECRET, NOW);
                let (parts, _) = r.into_parts();
                Request::from_parts(
                    parts,
                    Full::new(Bytes::from(r#"{"taskToken":"tok-billing"}"#)),
                )
            },
            "com.amazon.coral.service#InvalidSignatureException",
            None,
        ),
    ];
    for (req, ty, msg) in cases {
        let a = send(&layer, &calls, req).await;
        assert_eq!(a.status, 400, "{ty}");
        assert_eq!(a.body["__type"], ty);
        if let Some(m) = msg {
            assert_eq!(a.body["message"], m);
        }
        assert!(a.decision.is_none());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn malformed_requests_get_swf_shapes() {
    let (layer, calls) = setup();
    let cases: Vec<(Request<Full<Bytes>>, &str)> = vec![
        (
            request("NoSuchOperation", "{}", AKID, SECRET, NOW),
            "com.amazon.coral.service#UnknownOperationException",
        ),
        (
            request("ScheduleActivityTask", "{}", AKID, SECRET, NOW),
            "com.amazon.coral.service#UnknownOperationException",
        ),
        (
            {
                let mut r = request("ListDomains", "{}", AKID, SECRET, NOW);
                r.headers_mut().remove("x-amz-target");
                r
            },
            "com.amazon.coral.service#UnknownOperationException",
        ),
        (
            request("ListDomains", "{not json", AKID, SECRET, NOW),
            "com.amazon.coral.service#SerializationException",
        ),
        (
            request("ListDomains", "[1,2]", AKID, SECRET, NOW),
            "com.amazon.coral.service#SerializationException",
        ),
        (
            request("PollForActivityTask", r#"{"domain": 5}"#, AKID, SECRET, NOW),
            "com.amazon.coral.service#SerializationException",
        ),
        (
            request(
                "PollForActivityTask",
                r#"{"taskList": {"name": "x"}}"#,
                AKID,
                SECRET,
                NOW,
            ),
            "com.amazon.coral.validate#ValidationException",
        ),
        (
            request(
                "RecordActivityTaskHeartbeat",
                r#"{"taskToken":"garbage"}"#,
                AKID,
                SECRET,
                NOW,
            ),
            "com.amazon.coral.validate#ValidationException",
        ),
        (
            request(
                "PollForActivityTask",
                r#"{"domain": "a/b"}"#,
                AKID,
                SECRET,
                NOW,
            ),
            "com.amazon.coral.validate#ValidationException",
        ),
        (
            request(
                "ListDomains",
                &format!(r#"{{"x": "{}"}}"#, "a".repeat(70_000)),
                AKID,
                SECRET,
                NOW,
            ),
            "com.amazon.coral.validate#ValidationException",
        ),
        (
            {
                let mut r = request("ListDomains", "{}", AKID, SECRET, NOW);
                *r.method_mut() = http::Method::GET;
                r
            },
            "com.amazon.coral.service#UnknownOperationException",
        ),
    ];
    for (req, ty) in cases {
        let a = send(&layer, &calls, req).await;
        assert_eq!(a.status, 400, "{ty}");
        assert_eq!(a.body["__type"], ty);
        assert!(a.body["message"].is_string());
    }
    let a = send(
        &layer,
        &calls,
        request(
            "RecordActivityTaskHeartbeat",
            r#"{"taskToken":"garbage"}"#,
            AKID,
            SECRET,
            NOW,
        ),
    )
    .await;
    assert_eq!(a.body["message"], "Invalid token");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn decisions_are_authorized_one_by_one() {
    let (layer, calls) = setup();
    let body = serde_json::json!({"taskToken": "tok-orders", "decisions": [
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": "1", "activityType": {"name": "hb", "version": "1"}}},
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": "2", "activityType": {"name": "other", "version": "1"}}},
        {"decisionType": "CompleteWorkflowExecution", "completeWorkflowExecutionDecisionAttributes": {}},
        {"decisionType": "ScheduleLambdaFunction", "scheduleLambdaFunctionDecisionAttributes": {"id": "l", "name": "f"}},
        {"decisionType": "LaunchMissiles"}
    ]});
    let a = send(
        &layer,
        &calls,
        request(
            "RespondDecisionTaskCompleted",
            &body.to_string(),
            AKID,
            SECRET,
            NOW,
        ),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body["verdicts"],
        serde_json::json!([
            "allowed",
            "implicitDeny",
            "implicitDeny",
            "noAction",
            "unknownDecision"
        ])
    );
}

/// Decisions carry no `aws:SourceIp` (swf.md §3.1 rule 6): a `NotIpAddress` deny on
/// `swf:*` therefore denies every decision, even from an allowed address.
#[tokio::test]
async fn a_source_ip_deny_on_all_actions_denies_every_decision() {
    let c = config(
        r#", {"Sid": "NetAll", "Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}"#,
    );
    let layer = GateLayer::with_options(c, Arc::new(Tokens), options());
    let calls = Arc::new(AtomicUsize::new(0));
    let body = serde_json::json!({"taskToken": "tok-orders", "decisions": [
        {"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": {"activityId": "1", "activityType": {"name": "hb", "version": "1"}}}
    ]});
    let a = send(
        &layer,
        &calls,
        request(
            "RespondDecisionTaskCompleted",
            &body.to_string(),
            AKID,
            SECRET,
            NOW,
        ),
    )
    .await;
    assert_eq!(a.status, 200, "the call itself comes from 127.0.0.1");
    assert_eq!(a.body["verdicts"], serde_json::json!(["explicitDeny"]));
}

#[tokio::test]
async fn reload_swaps_atomically_and_refuses_invalid_configs() {
    let (layer, calls) = setup();
    let dir = std::env::temp_dir().join(format!("swf-iam-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.json");
    let body = r#"{"registrationStatus":"REGISTERED"}"#;
    assert_eq!(
        send(
            &layer,
            &calls,
            request("ListDomains", body, AKID, SECRET, NOW)
        )
        .await
        .status,
        200
    );
    // A config that denies ListDomains explicitly.
    std::fs::write(
        &path,
        config_text(r#", {"Effect": "Deny", "Action": "swf:ListDomains", "Resource": "*"}"#),
    )
    .unwrap();
    layer.handle().reload(&path).unwrap();
    assert_eq!(
        send(
            &layer,
            &calls,
            request("ListDomains", body, AKID, SECRET, NOW)
        )
        .await
        .status,
        400
    );
    // An invalid config is refused; the previous one stays.
    std::fs::write(
        &path,
        config_text(r#", {"Effect": "allow", "Action": "swf:ListDomains", "Resource": "*"}"#),
    )
    .unwrap();
    assert!(layer.handle().reload(&path).is_err());
    assert_eq!(
        send(
            &layer,
            &calls,
            request("ListDomains", body, AKID, SECRET, NOW)
        )
        .await
        .status,
        400
    );
    std::fs::write(&path, "{").unwrap();
    assert!(layer.handle().reload(&path).is_err());
    assert_eq!(layer.handle().config().principals.len(), 2);
}

#[tokio::test]
async fn secrets_never_in_debug_output() {
    let c = config("");
    assert!(!format!("{c:?}").contains(SECRET));
    let layer = GateLayer::with_options(c, Arc::new(Tokens), options());
    assert!(!format!("{:?}", layer.handle().config()).contains(SECRET));
}

fn targets() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some(
            "SimpleWorkflowService.RecordActivityTaskHeartbeat".to_owned()
        )),
        Just(Some("SimpleWorkflowService.ListDomains".to_owned())),
        Just(Some("SimpleWorkflowService.PollForActivityTask".to_owned())),
        Just(Some(
            "SimpleWorkflowService.RespondDecisionTaskCompleted".to_owned()
        )),
        "[A-Za-z.]{0,40}".prop_map(Some),
    ]
}

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        Just(br#"{"taskToken":"tok-orders"}"#.to_vec()),
        Just(br#"{"taskToken":"tok-billing"}"#.to_vec()),
        Just(br#"{"domain":"orders","taskList":{"name":"x"}}"#.to_vec()),
        Just(br#"{"decisions":[{"decisionType":"Nope"}],"taskToken":"tok-orders"}"#.to_vec()),
        "[{}\\[\\]\":,a-z0-9]{0,60}".prop_map(|s| s.into_bytes()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Arbitrary bodies and headers never panic, and the inner service is reached only
    /// with an `allowed` decision.
    #[test]
    fn arbitrary_requests_never_panic_or_allow(
        target in targets(),
        body in bodies(),
        signed in any::<bool>(),
        auth in "[ -~]{0,80}",
        skew in -2000i64..2000,
        peer_local in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (layer, calls) = setup();
            let mut h = HeaderMap::new();
            h.insert("host", "127.0.0.1:4599".parse().unwrap());
            if let Some(t) = &target {
                if let Ok(v) = t.parse() { h.insert("x-amz-target", v); }
            }
            let date = swf_iam::values::format_iso8601(NOW + skew).replace(['-', ':'], "");
            h.insert("x-amz-date", date.parse().unwrap());
            if signed {
                let a = {
                    let secret = Secret::new(SECRET);
                    sigv4::Signer { access_key_id: AKID, secret: &secret, region: "us-east-1", service: "swf" }
                        .sign("POST", "/", &h, &body)
                        .unwrap()
                };
                h.insert("authorization", a.parse().unwrap());
            } else if let Ok(v) = auth.parse() {
                h.insert("authorization", v);
            }
            let mut req = Request::post("/").body(Full::new(Bytes::from(body.clone()))).unwrap();
            *req.headers_mut() = h;
            let peer = if peer_local { "127.0.0.1:1" } else { "198.51.100.1:1" };
            req.extensions_mut().insert(ClientAddr(peer.parse().unwrap()));
            let svc = layer.layer(inner(calls.clone()));
            let resp = svc.oneshot(req).await.unwrap();
            let allowed = resp.extensions().get::<Decision>().is_some_and(|d| d.decision == DecisionKind::Allowed);
            let reached = calls.load(Ordering::SeqCst) == 1;
            assert_eq!(reached, allowed, "the inner service is reached exactly when allowed");
            if reached {
                assert!(signed && peer_local && skew.abs() <= 900);
            } else {
                assert!(resp.status().as_u16() >= 400);
            }
        });
    }
}

#[tokio::test]
async fn reloads_on_sighup_and_on_file_change() {
    use swf_iam::gate::ops::{reload_on_change, reload_on_sighup};
    let dir = std::env::temp_dir().join(format!("swf-iam-hup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.json");
    std::fs::write(&path, config_text("")).unwrap();
    let layer = GateLayer::with_options(Config::load(&path).unwrap(), Arc::new(Tokens), options());
    let calls = Arc::new(AtomicUsize::new(0));
    let body = r#"{"registrationStatus":"REGISTERED"}"#;
    let deny = r#", {"Effect": "Deny", "Action": "swf:ListDomains", "Resource": "*"}"#;

    let _hup = reload_on_sighup(layer.handle(), path.clone()).unwrap();
    std::fs::write(&path, config_text(deny)).unwrap();
    assert_eq!(
        send(
            &layer,
            &calls,
            request("ListDomains", body, AKID, SECRET, NOW)
        )
        .await
        .status,
        200,
        "not reloaded yet"
    );
    let st = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let mut status = 200;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        status = send(
            &layer,
            &calls,
            request("ListDomains", body, AKID, SECRET, NOW),
        )
        .await
        .status;
        if status == 400 {
            break;
        }
    }
    assert_eq!(status, 400, "SIGHUP reloaded the configuration");

    let _watch = reload_on_change(
        layer.handle(),
        path.clone(),
        std::time::Duration::from_millis(50),
    );
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    std::fs::write(&path, config_text("")).unwrap();
    let mut status = 400;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        status = send(
            &layer,
            &calls,
            request("ListDomains", body, AKID, SECRET, NOW),
        )
        .await
        .status;
        if status == 200 {
            break;
        }
    }
    assert_eq!(status, 200, "a changed file is reloaded");
}
