//! The proxy forwards only what the gate decided, over the wire with moto's server as
//! the upstream: headers that pick a region or an account upstream (`User-Agent:
//! region/...`, `Host: swf.REGION.amazonaws.com`, `x-moto-account-id`) and paths
//! (`/moto-api/reset`) have no effect there; domain tags decide through the proxy as in
//! `serve`, learned or asked for, and a request whose tags cannot be learned is denied; a
//! decision type the catalog does not know is refused.

use super::proxy_moto::{moto, proxy_with};
use super::swfkit::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use swf_iam::config::Secret;
use swf_iam::gate::sigv4;

const ATTACKER: (&str, &str) = ("AKIAATTACKER", "attacker-secret");
const TAGGED: (&str, &str) = ("AKIATAGGED", "tagged-secret");

fn amz_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    swf_iam::gate::sigv4::format_amz_date(secs)
}

/// Sends one HTTP/1.1 request; (status, body as JSON or Null).
fn send(addr: SocketAddr, path: &str, headers: &[(String, String)], body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = format!("POST {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(out.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A request signed as `key` for `region` (every header in `signed` covered), plus the
/// unsigned headers `unsigned`.
#[expect(
    clippy::too_many_arguments,
    reason = "each attack varies a different part of the request"
)]
fn signed(
    addr: SocketAddr,
    path: &str,
    op: &str,
    body: &str,
    key: (&str, &str),
    region: &str,
    signed_extra: &[(&str, &str)],
    unsigned: &[(&str, &str)],
) -> (u16, Value) {
    let date = amz_now();
    let mut h = http::HeaderMap::new();
    h.insert("host", addr.to_string().parse().unwrap());
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().unwrap(),
    );
    h.insert(
        "x-amz-target",
        format!("SimpleWorkflowService.{op}").parse().unwrap(),
    );
    h.insert("x-amz-date", date.parse().unwrap());
    for (k, v) in signed_extra {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let mut names: Vec<String> = h.keys().map(|k| k.as_str().to_owned()).collect();
    names.sort();
    let creq = sigv4::canonical_request("POST", path, &h, &names, body.as_bytes()).unwrap();
    let scope = format!("{}/{region}/swf/aws4_request", &date[..8]);
    let sts = sigv4::string_to_sign(&date, &scope, &creq);
    let sig = sigv4::signature(
        &sigv4::signing_key(&Secret::new(key.1), &date[..8], region, "swf"),
        &sts,
    );
    let mut headers: Vec<(String, String)> = h
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            key.0,
            names.join(";")
        ),
    ));
    for (k, v) in unsigned {
        headers.push(((*k).to_owned(), (*v).to_owned()));
    }
    send(addr, path, &headers, body)
}

/// A call straight to moto (it reads no signature): region from the credential scope,
/// account from `x-moto-account-id`.
fn moto_call(moto: SocketAddr, op: &str, body: Value, region: &str, account: &str) -> (u16, Value) {
    let headers = vec![
        ("host".to_owned(), moto.to_string()),
        ("content-type".into(), "application/x-amz-json-1.0".into()),
        ("x-amz-target".into(), format!("SimpleWorkflowService.{op}")),
        ("x-moto-account-id".into(), account.to_owned()),
        (
            "authorization".into(),
            format!("AWS4-HMAC-SHA256 Credential=AKIAMOTO/20260101/{region}/swf/aws4_request, SignedHeaders=host, Signature=00"),
        ),
    ];
    send(moto, "/", &headers, &body.to_string())
}

fn status_of(moto: SocketAddr, name: &str, region: &str, account: &str) -> String {
    let (code, v) = moto_call(
        moto,
        "DescribeDomain",
        json!({"name": name}),
        region,
        account,
    );
    assert_eq!(
        code, 200,
        "DescribeDomain {name} in {region}/{account}: {v}"
    );
    v["domainInfo"]["status"].as_str().unwrap().to_owned()
}

#[test]
fn the_proxy_forwards_what_it_authorized_and_nothing_else() {
    let dir = std::env::temp_dir().join(format!("swf-iam-proxy-attacks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_moto, moto_port) = moto();
    let moto_addr: SocketAddr = format!("127.0.0.1:{moto_port}").parse().unwrap();
    // Domains beta1..beta4 in us-east-1 and us-west-2 of 123456789012, and in
    // us-east-1 of 999999999999.
    for (region, account) in [
        ("us-east-1", "123456789012"),
        ("us-west-2", "123456789012"),
        ("us-east-1", "999999999999"),
    ] {
        for d in ["beta1", "beta2", "beta3", "beta4"] {
            let (code, v) = moto_call(
                moto_addr,
                "RegisterDomain",
                json!({"name": d, "workflowExecutionRetentionPeriodInDays": "1"}),
                region,
                account,
            );
            assert_eq!(code, 200, "{v}");
        }
    }
    // The attacker may do anything to us-east-1 domains `beta*` of 123456789012, and
    // nothing else.
    let config = config_with_role(
        "attacker",
        ATTACKER,
        r#"{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/beta*"}"#,
    );
    let (_p, addr) = proxy_with(&dir, moto_port, &config, &["--reset-endpoint", "off"]);
    let deprecate =
        |name: &str, path: &str, signed_extra: &[(&str, &str)], unsigned: &[(&str, &str)]| {
            signed(
                addr,
                path,
                "DeprecateDomain",
                &json!({ "name": name }).to_string(),
                ATTACKER,
                "us-east-1",
                signed_extra,
                unsigned,
            )
        };
    // 1. An unsigned User-Agent naming another region.
    let (code, v) = deprecate(
        "beta1",
        "/",
        &[],
        &[("user-agent", "aws-cli/2 region/us-west-2")],
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        status_of(moto_addr, "beta1", "us-east-1", "123456789012"),
        "DEPRECATED"
    );
    assert_eq!(
        status_of(moto_addr, "beta1", "us-west-2", "123456789012"),
        "REGISTERED"
    );
    // 2. A (signed) Host naming another region's endpoint.
    let (code, v) = deprecate(
        "beta2",
        "/",
        &[("host", "swf.us-west-2.amazonaws.com")],
        &[],
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        status_of(moto_addr, "beta2", "us-east-1", "123456789012"),
        "DEPRECATED"
    );
    assert_eq!(
        status_of(moto_addr, "beta2", "us-west-2", "123456789012"),
        "REGISTERED"
    );
    // 3. Another account, signed or not.
    let (code, v) = deprecate("beta3", "/", &[("x-moto-account-id", "999999999999")], &[]);
    assert_eq!(code, 200, "{v}");
    let (code, v) = deprecate("beta4", "/", &[], &[("x-moto-account-id", "999999999999")]);
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        status_of(moto_addr, "beta3", "us-east-1", "123456789012"),
        "DEPRECATED"
    );
    assert_eq!(
        status_of(moto_addr, "beta4", "us-east-1", "123456789012"),
        "DEPRECATED"
    );
    assert_eq!(
        status_of(moto_addr, "beta3", "us-east-1", "999999999999"),
        "REGISTERED"
    );
    assert_eq!(
        status_of(moto_addr, "beta4", "us-east-1", "999999999999"),
        "REGISTERED"
    );
    // 4. A signed request to moto's own paths never reaches moto (reset endpoint off).
    for path in [
        "/moto-api/reset",
        "/moto-api/data.json",
        "/moto-api/seed",
        "/x",
    ] {
        let (code, v) = signed(
            addr,
            path,
            "DescribeDomain",
            r#"{"name": "beta1"}"#,
            ATTACKER,
            "us-east-1",
            &[],
            &[],
        );
        assert_eq!(code, 400, "{path}: {v}");
        assert!(
            v["message"].as_str().unwrap_or("").contains("not `"),
            "{path}: {v}"
        );
    }
    assert_eq!(
        status_of(moto_addr, "beta1", "us-west-2", "123456789012"),
        "REGISTERED",
        "moto was not reset"
    );
}

/// A Deny on `aws:ResourceTag/env` decides through the proxy: tags set behind the
/// proxy's back are asked of moto, tags changed through it are learned at once.
#[test]
fn domain_tags_decide_through_the_proxy() {
    let dir = std::env::temp_dir().join(format!("swf-iam-proxy-tags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_moto, moto_port) = moto();
    let moto_addr: SocketAddr = format!("127.0.0.1:{moto_port}").parse().unwrap();
    let (code, v) = moto_call(
        moto_addr,
        "RegisterDomain",
        json!({"name": "prod", "workflowExecutionRetentionPeriodInDays": "1", "tags": [{"key": "env", "value": "prod"}]}),
        "us-east-1",
        "123456789012",
    );
    assert_eq!(code, 200, "{v}");
    let (code, v) = moto_call(
        moto_addr,
        "RegisterDomain",
        json!({"name": "dev", "workflowExecutionRetentionPeriodInDays": "1"}),
        "us-east-1",
        "123456789012",
    );
    assert_eq!(code, 200, "{v}");
    let config = config_with_role(
        "tagged",
        TAGGED,
        r#"{"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
           {"Effect": "Deny", "Action": "swf:DescribeDomain", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}}}"#,
    );
    let (_p, addr) = proxy_with(&dir, moto_port, &config, &["--tag-ttl", "60"]);
    let call = |op: &str, body: Value| {
        signed(
            addr,
            "/",
            op,
            &body.to_string(),
            TAGGED,
            "us-east-1",
            &[],
            &[],
        )
    };
    let (code, v) = call("DescribeDomain", json!({"name": "prod"}));
    assert_eq!(code, 400, "{v}");
    assert!(
        v["__type"]
            .as_str()
            .unwrap()
            .ends_with("OperationNotPermittedFault"),
        "{v}"
    );
    let (code, v) = call("DescribeDomain", json!({"name": "dev"}));
    assert_eq!(code, 200, "{v}");
    // Tagged through the proxy: denied at once (the 60 s TTL would keep the old tags).
    let arn = "arn:aws:swf:us-east-1:123456789012:/domain/dev";
    let (code, v) = call(
        "TagResource",
        json!({"resourceArn": arn, "tags": [{"key": "env", "value": "prod"}]}),
    );
    assert_eq!(code, 200, "{v}");
    let (code, v) = call("DescribeDomain", json!({"name": "dev"}));
    assert_eq!(code, 400, "{v}");
    let (code, v) = call(
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["env"]}),
    );
    assert_eq!(code, 200, "{v}");
    let (code, v) = call("DescribeDomain", json!({"name": "dev"}));
    assert_eq!(code, 200, "{v}");
    // A decision type SWF does not know is refused, with the whole call.
    let (code, v) = call(
        "RegisterWorkflowType",
        json!({"domain": "dev", "name": "wf", "version": "1", "defaultTaskList": {"name": "d"},
               "defaultExecutionStartToCloseTimeout": "600", "defaultTaskStartToCloseTimeout": "60",
               "defaultChildPolicy": "TERMINATE"}),
    );
    assert_eq!(code, 200, "{v}");
    let (code, v) = call(
        "StartWorkflowExecution",
        json!({"domain": "dev", "workflowId": "w", "workflowType": {"name": "wf", "version": "1"}}),
    );
    assert_eq!(code, 200, "{v}");
    let (code, task) = call(
        "PollForDecisionTask",
        json!({"domain": "dev", "taskList": {"name": "d"}}),
    );
    assert_eq!(code, 200, "{task}");
    let token = task["taskToken"].as_str().unwrap();
    let (code, v) = call(
        "RespondDecisionTaskCompleted",
        json!({"taskToken": token, "decisions": [{"decisionType": "LaunchMissiles"}]}),
    );
    assert_eq!(code, 400, "{v}");
    assert!(
        v["__type"]
            .as_str()
            .unwrap()
            .ends_with("ValidationException"),
        "{v}"
    );
    let (code, v) = call(
        "GetWorkflowExecutionHistory",
        json!({"domain": "dev", "execution": {"workflowId": "w", "runId": task["workflowExecution"]["runId"]}}),
    );
    assert_eq!(code, 200, "{v}");
    let types: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert!(!types.contains(&"DecisionTaskCompleted"), "{types:?}");
}

/// Where the tags cannot be learned (an upstream that fails `ListTagsForResource`), a
/// caller whose policies read them is denied, never allowed.
#[test]
fn unknowable_tags_deny() {
    let dir = std::env::temp_dir().join(format!("swf-iam-proxy-notags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // An upstream that answers every request with 500.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    let config = config_with_role(
        "tagged",
        TAGGED,
        r#"{"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
           {"Effect": "Deny", "Action": "swf:DescribeDomain", "Resource": "*", "Condition": {"StringNotEquals": {"aws:ResourceTag/env": "dev"}}}"#,
    );
    let (_p, addr) = proxy_with(&dir, port, &config, &[]);
    let (code, v) = signed(
        addr,
        "/",
        "DescribeDomain",
        r#"{"name": "prod"}"#,
        TAGGED,
        "us-east-1",
        &[],
        &[],
    );
    assert_eq!(code, 400, "{v}");
    assert!(
        v["__type"]
            .as_str()
            .unwrap()
            .ends_with("OperationNotPermittedFault"),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("could not be learned"),
        "{v}"
    );
}
