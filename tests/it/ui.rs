//! The web UI in a real headless browser (Debian's chromium, driven through its
//! WebDriver, chromedriver): a test starts `serve`, runs a flow with a denied decision
//! and a denied call, opens the pages and asserts what a person would see — the
//! execution's timeline, each denial in place with its reason and deciding statement,
//! an update arriving without a reload, the live decision log, the principals' access.
//! Screenshots of the main pages are written to `target/ui-screenshots/` (and, with
//! `SWF_IAM_UPDATE_SCREENSHOTS=1`, to `tests/ui-screenshots/`, which the README shows).

use super::swfkit::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver on a free port ($SWF_IAM_CHROMEDRIVER, else /usr/bin/chromedriver:
/// `apt-get install chromium chromium-driver`, as scripts/test does).
fn chromedriver() -> (Driver, String) {
    let bin =
        std::env::var("SWF_IAM_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin} ({e}): apt-get install chromium chromium-driver")
        });
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Driver(child), format!("http://127.0.0.1:{port}"))
}

async fn browser(webdriver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(webdriver)
        .await
        .unwrap()
}

/// Evaluates `script` (a function body) in the page until it returns something other
/// than null/false, or fails after 15 s with `what`.
async fn until(c: &Client, script: &str, what: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = c.execute(script, vec![]).await.unwrap();
        if !v.is_null() && v != Value::Bool(false) {
            return v;
        }
        assert!(Instant::now() < deadline, "the page never showed {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/ui-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    if std::env::var_os("SWF_IAM_UPDATE_SCREENSHOTS").is_some() {
        let dir = root.join("tests/ui-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sees_the_timeline_and_each_denial_in_place() {
    let dir = std::env::temp_dir().join(format!("swf-iam-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config_text(), &["--poll-timeout", "1"], None);
    let op = client(server.addr(), OPERATOR);
    setup_orders(&op, "300", "60").await;
    // A decision IAM denies (the operator may not schedule `forbidden`), one it allows.
    let run = start_and_decide(
        &op,
        "order-1",
        vec![schedule("a1", "hb"), schedule("a2", "forbidden")],
    )
    .await;
    let w = client(server.addr(), WORKER);
    let task = w
        .poll_for_activity_task()
        .domain("orders")
        .task_list(tl("workers"))
        .send()
        .await
        .unwrap();
    // A call IAM denies on this execution: the outsider heartbeats the worker's task.
    let e = client(server.addr(), OUTSIDER)
        .record_activity_task_heartbeat()
        .task_token(task.task_token())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_operation_not_permitted_fault(), "{e:?}");

    let (_driver, webdriver) = chromedriver();
    let c = browser(&webdriver).await;
    let base = format!("{}/ui", server.url);

    // The executions page lists the run, marked with its two denials.
    c.goto(&format!("{base}#/executions")).await.unwrap();
    let row = until(
        &c,
        "const a = [...document.querySelectorAll('#executions a')].find(a => a.textContent === 'order-1'); \
         return a ? a.closest('tr').innerText : null;",
        "order-1 in the executions table",
    )
    .await;
    let row = row.as_str().unwrap();
    assert!(
        row.contains(&run) && row.contains("wf v1") && row.contains("OPEN"),
        "{row}"
    );
    assert!(row.trim_end().ends_with('2'), "two denials: {row}");
    screenshot(&c, "executions").await;

    // One click to the execution: its history as a timeline.
    c.find(Locator::LinkText("order-1"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let events = until(
        &c,
        "const r = [...document.querySelectorAll('#timeline tr[data-event]')].map(t => t.dataset.event); \
         return r.length >= 7 ? r : null;",
        "the timeline",
    )
    .await;
    let events: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "WorkflowExecutionStarted",
            "DecisionTaskScheduled",
            "DecisionTaskStarted",
            "DecisionTaskCompleted",
            "ActivityTaskScheduled",
            "ScheduleActivityTaskFailed",
            "DecisionTaskScheduled",
            "ActivityTaskStarted",
        ]
    );
    // The denied decision, at its event: AWS's message and the deciding statement.
    let failed = c
        .execute(
            "return document.querySelector('#timeline tr[data-event=ScheduleActivityTaskFailed]').innerText;",
            vec![],
        )
        .await
        .unwrap();
    let failed = failed.as_str().unwrap();
    assert!(failed.contains("cause OPERATION_NOT_PERMITTED"), "{failed}");
    assert!(
        failed.contains("User: arn:aws:iam::123456789012:user/operator is not authorized to perform: swf:ScheduleActivityTask on resource: arn:aws:swf:us-east-1:123456789012:/domain/orders with an explicit deny in an identity-based policy"),
        "{failed}"
    );
    assert!(
        failed.contains("NoForbidden"),
        "the deciding statement: {failed}"
    );
    assert!(
        failed.contains("\"swf:activityType.name\":\"forbidden\""),
        "{failed}"
    );
    // The denied call, in place: the outsider's heartbeat.
    let call = c
        .execute(
            "const r = document.querySelector('#timeline tr[data-kind=call]'); return r && r.innerText;",
            vec![],
        )
        .await
        .unwrap();
    let call = call
        .as_str()
        .unwrap_or_else(|| panic!("no denied call in the timeline"));
    assert!(
        call.contains("role/outsider")
            && call.contains("is not authorized to perform: swf:RecordActivityTaskHeartbeat"),
        "{call}"
    );
    assert!(
        call.contains("BillingOnly") || call.contains("no identity-based policy allows"),
        "{call}"
    );
    // The raw event is a click away.
    let raw = c
        .execute(
            "const d = document.querySelector('#timeline tr[data-event=ScheduleActivityTaskFailed] details'); \
             d.querySelector('summary').click(); return d.open && d.querySelector('pre').innerText;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        raw.as_str()
            .unwrap()
            .contains("\"scheduleActivityTaskFailedEventAttributes\""),
        "{raw}"
    );
    screenshot(&c, "execution").await;

    // It updates without a reload: the worker finishes; the timeline shows it.
    let marker = c
        .execute("window.__notReloaded = true; return 1;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, json!(1));
    w.record_activity_task_heartbeat()
        .task_token(task.task_token())
        .details("half way")
        .send()
        .await
        .unwrap();
    w.respond_activity_task_completed()
        .task_token(task.task_token())
        .result("done")
        .send()
        .await
        .unwrap();
    until(
        &c,
        "return window.__notReloaded === true && !!document.querySelector('#timeline tr[data-event=ActivityTaskCompleted]');",
        "ActivityTaskCompleted without a reload",
    )
    .await;
    // Heartbeats are not history events: the decision log shows the worker's, in place.
    let beat = until(
        &c,
        "const r = document.querySelector('#timeline tr[data-kind=heartbeat]'); return r && r.innerText;",
        "the worker's heartbeat",
    )
    .await;
    assert!(beat.as_str().unwrap().contains("role/worker"), "{beat}");
    // (The raw event the user opened stays open across refreshes.)
    let still_open = c
        .execute(
            "return document.querySelector('#timeline tr[data-event=ScheduleActivityTaskFailed] details').open;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(still_open, json!(true));

    // The live decision log, filtered to denials.
    c.goto(&format!("{base}#/decisions?decision=denied"))
        .await
        .unwrap();
    let rows = until(
        &c,
        "const r = [...document.querySelectorAll('#decisions tbody tr')].map(t => t.innerText); return r.length ? r : null;",
        "the decision log",
    )
    .await;
    let rows: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.contains("swf:ScheduleActivityTask") && r.contains("explicitDeny")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("swf:RecordActivityTaskHeartbeat") && r.contains("role/outsider")),
        "{rows:?}"
    );
    screenshot(&c, "decisions").await;

    // Principals with what they may do.
    c.goto(&format!("{base}#/principals")).await.unwrap();
    let card = until(
        &c,
        "const d = document.querySelector('[data-principal=\"arn:aws:iam::123456789012:role/outsider\"]'); return d && d.innerText;",
        "the outsider's access",
    )
    .await;
    let card = card.as_str().unwrap();
    assert!(
        card.contains("swf:RecordActivityTaskHeartbeat") && card.contains("on `billing`"),
        "{card}"
    );
    // The operator may do anything but heartbeat and poll for activities, on any domain.
    let card = c
        .execute(
            "const d = document.querySelector('[data-principal=\"arn:aws:iam::123456789012:user/operator\"]'); return d && d.innerText;",
            vec![],
        )
        .await
        .unwrap();
    let card = card.as_str().unwrap();
    assert!(
        card.contains("swf:ScheduleActivityTask") && card.contains("on any domain"),
        "{card}"
    );
    assert!(!card.contains("swf:RecordActivityTaskHeartbeat"), "{card}");
    screenshot(&c, "principals").await;

    // Domains and types.
    c.goto(&format!("{base}#/domains")).await.unwrap();
    let card = until(
        &c,
        "const d = document.querySelector('[data-domain=orders]'); return d && d.innerText;",
        "domain orders",
    )
    .await;
    let card = card.as_str().unwrap();
    assert!(
        card.contains("activity type hb") && card.contains("workflow type wf"),
        "{card}"
    );
    c.close().await.unwrap();
}

/// One raw HTTP/1.1 request over loopback: (status, body).
fn http(addr: std::net::SocketAddr, method: &str, path: &str, host: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map_or("", |x| x.1).to_owned();
    (status, body)
}

#[test]
fn the_ui_only_reads_and_only_for_loopback_names() {
    let dir = std::env::temp_dir().join(format!("swf-iam-ui-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = serve_bin(&dir, &config_text(), &[], None);
    let addr = server.addr();
    let host = addr.to_string();
    // The page and its assets, with a content security policy.
    let (status, body) = http(addr, "GET", "/ui", &host);
    assert_eq!(status, 200);
    assert!(body.contains("<script src=\"/ui/app.js\">"), "{body}");
    assert_eq!(http(addr, "GET", "/ui/app.js", "localhost").0, 200);
    // Reads only: no method but GET, no SWF operation that writes.
    let (status, body) = http(addr, "POST", "/ui/api/overview", &host);
    assert_eq!(status, 405, "{body}");
    let (status, body) = http(
        addr,
        "GET",
        "/ui/api/swf/RegisterDomain?q=%7B%22name%22%3A%22x%22%2C%22workflowExecutionRetentionPeriodInDays%22%3A%221%22%7D",
        &host,
    );
    assert_eq!(status, 400);
    assert!(body.contains("is not a read-only operation"), "{body}");
    let (status, body) = http(addr, "GET", "/ui/api/swf/ListDomains", &host);
    assert_eq!(status, 400, "the model's required member: {body}");
    let (status, body) = http(addr, "GET", "/ui/api/swf/ListDomains?q=nope", &host);
    assert_eq!(status, 400);
    assert!(body.contains("`q` is a JSON object"), "{body}");
    let (status, body) = http(
        addr,
        "GET",
        "/ui/api/swf/ListDomains?q=%7B%22registrationStatus%22%3A%22REGISTERED%22%7D",
        &host,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, r#"{"domainInfos":[]}"#);
    // Only an IP address or localhost as Host (a rebound name is refused).
    let (status, body) = http(addr, "GET", "/ui/api/overview", "evil.example:4599");
    assert_eq!(status, 403, "{body}");
    assert_eq!(http(addr, "GET", "/ui/nothing-here", &host).0, 404);
    drop(server);

    // `--ui off`: the paths are the SWF endpoint's like any other (and refused there).
    let server = serve_bin(&dir, &config_text(), &["--ui", "off"], None);
    let (status, _) = http(server.addr(), "GET", "/ui", &server.addr().to_string());
    assert_ne!(status, 200);
}
