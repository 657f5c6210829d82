//! A real client against the gate over loopback: aws-sdk-swf signs the requests, the gate
//! verifies them, and denials surface as the SDK's typed `OperationNotPermittedFault`.

use super::gatekit::{config, inner, Tokens, AKID, SECRET};
use aws_sdk_swf::operation::record_activity_task_heartbeat::RecordActivityTaskHeartbeatError;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use swf_iam::gate::GateLayer;
use tower::Layer;

async fn start() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The real clock: the SDK signs with the current time.
    let layer = GateLayer::new(config(""), Arc::new(Tokens));
    let svc = layer.layer(inner(Arc::new(AtomicUsize::new(0))));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(swf_iam::server::serve(
        listener,
        svc,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(1),
    ));
    (addr, tx)
}

fn client(addr: std::net::SocketAddr, akid: &str, secret: &str) -> aws_sdk_swf::Client {
    let creds = aws_credential_types::Credentials::new(akid, secret, None, None, "swf-iam-tests");
    let conf = aws_sdk_swf::Config::builder()
        .behavior_version(aws_sdk_swf::config::BehaviorVersion::latest())
        .region(aws_sdk_swf::config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(format!("http://{addr}"))
        .build();
    aws_sdk_swf::Client::from_conf(conf)
}

#[tokio::test]
async fn aws_sdk_swf_signatures_verify_and_denials_are_typed() {
    let (addr, _stop) = start().await;
    let c = client(addr, AKID, SECRET);
    let out = c
        .record_activity_task_heartbeat()
        .task_token("tok-orders")
        .details("42%")
        .send()
        .await
        .unwrap();
    assert!(!out.cancel_requested());

    let err = c
        .record_activity_task_heartbeat()
        .task_token("tok-billing")
        .send()
        .await
        .unwrap_err();
    match err.into_service_error() {
        RecordActivityTaskHeartbeatError::OperationNotPermittedFault(f) => {
            assert!(f.message().unwrap().contains("is not authorized to perform: swf:RecordActivityTaskHeartbeat on resource: arn:aws:swf:us-east-1:123456789012:/domain/billing"));
        }
        other => panic!("expected OperationNotPermittedFault, got {other:?}"),
    }

    // A wrong secret: the SDK's signature does not verify.
    let bad = client(addr, AKID, "not-the-secret");
    let err = bad
        .record_activity_task_heartbeat()
        .task_token("tok-orders")
        .send()
        .await
        .unwrap_err();
    let meta = aws_sdk_swf::error::ProvideErrorMetadata::code(&err).map(str::to_owned);
    assert_eq!(meta.as_deref(), Some("InvalidSignatureException"));
    // An unknown key.
    let unknown = client(addr, "AKIAUNKNOWN", SECRET);
    let err = unknown
        .list_domains()
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_swf::error::ProvideErrorMetadata::code(&err),
        Some("UnrecognizedClientException")
    );
}
