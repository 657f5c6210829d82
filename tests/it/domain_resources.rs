//! `ListDomains` is authorized on the domain named `*` of the request's region and
//! `RegisterDomain` on the new domain's ARN, as AWS does (its denial reads `on resource:
//! arn:aws:swf:us-east-1:ACCOUNT:/domain/*`; the API reference: "the name of the domain
//! being registered is available as the resource of this action"), in `check`, the gate
//! (aws-sdk-swf over loopback), `who-can` and `access`. A resource holding `*` or `?` is
//! a name, matched as text.

use super::swfkit::*;
use std::process::{Command, Output};

const ACCOUNT: &str = "123456789012";
const LISTER: (&str, &str) = ("AKIALISTER", "lister-secret");
const NARROW: (&str, &str) = ("AKIANARROW", "narrow-secret");

/// The Developer Guide's usual grant (`swf:*` on every domain of the account), a Deny
/// on the EU regions' domains and one on registering `prod-*`; and a principal allowed
/// only on domain `orders`.
fn config() -> String {
    let base = config_with_role(
        "lister",
        LISTER,
        r#"{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:*:123456789012:/domain/*"},
           {"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:eu-*:*:/domain/*"},
           {"Effect": "Deny", "Action": "swf:RegisterDomain", "Resource": "arn:aws:swf:*:*:/domain/prod-*"}"#,
    );
    let cut = base.rfind(']').unwrap();
    format!(
        r#"{},
  {{"arn": "arn:aws:iam::123456789012:role/narrow", "accessKeys": [{{"accessKeyId": "{}", "secretAccessKey": "{}"}}],
   "policies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:*:123456789012:/domain/orders"}}]}}]}}
], "regions": ["us-east-1", "eu-west-1"]}}"#,
        base[..cut].trim_end(),
        NARROW.0,
        NARROW.1
    )
}

fn write_config(dir: &std::path::Path) -> std::path::PathBuf {
    let text = config();
    let path = dir.join("config.json");
    std::fs::write(&path, &text).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    path
}

fn check(cfg: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_swf-iam"))
        .arg("check")
        .arg("--config")
        .arg(cfg)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap()
}

fn decided(o: &Output) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (
        v["decision"].as_str().unwrap().to_owned(),
        v["resource"].as_str().unwrap().to_owned(),
    )
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("swf-iam-domres-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn check_derives_the_resources_aws_uses() {
    let dir = tmp("check");
    let cfg = write_config(&dir);
    let lister = "arn:aws:iam::123456789012:role/lister";
    let narrow = "arn:aws:iam::123456789012:role/narrow";
    let list = |p: &str, region: &str| {
        decided(&check(
            &cfg,
            &[
                "--principal",
                p,
                "--action",
                "swf:ListDomains",
                "--region",
                region,
            ],
        ))
    };
    // The usual grant allows ListDomains (it was implicitly denied on `*`).
    assert_eq!(
        list(lister, "us-east-1"),
        (
            "allowed".into(),
            format!("arn:aws:swf:us-east-1:{ACCOUNT}:/domain/*")
        )
    );
    // The EU Deny stops it in eu-west-1 (it was allowed on `*`).
    assert_eq!(list(lister, "eu-west-1").0, "explicitDeny");
    // A grant on one domain does not cover the domain named `*`.
    assert_eq!(list(narrow, "us-east-1").0, "implicitDeny");
    // RegisterDomain is decided on the new domain's ARN.
    let register = |d: &str| {
        decided(&check(
            &cfg,
            &[
                "--principal",
                lister,
                "--action",
                "swf:RegisterDomain",
                "--domain",
                d,
            ],
        ))
    };
    assert_eq!(
        register("prod-x"),
        (
            "explicitDeny".into(),
            format!("arn:aws:swf:us-east-1:{ACCOUNT}:/domain/prod-x")
        )
    );
    assert_eq!(register("dev-x").0, "allowed");
    // `*` and `?` in a request's resource are characters of a name: `--resource` and
    // `--domain` give the same answer.
    for name in ["team-*", "why?", "*"] {
        let by_domain = decided(&check(
            &cfg,
            &[
                "--principal",
                narrow,
                "--action",
                "swf:DescribeDomain",
                "--domain",
                name,
            ],
        ));
        let arn = format!("arn:aws:swf:us-east-1:{ACCOUNT}:/domain/{name}");
        let by_resource = decided(&check(
            &cfg,
            &[
                "--principal",
                narrow,
                "--action",
                "swf:DescribeDomain",
                "--resource",
                &arn,
            ],
        ));
        assert_eq!(by_domain, by_resource, "{name}");
        assert_eq!(
            by_domain,
            ("implicitDeny".into(), arn.clone()),
            "`orders` grants nothing on `{name}`"
        );
    }
    let o = check(
        &cfg,
        &[
            "--principal",
            lister,
            "--action",
            "swf:ListDomains",
            "--domain",
            "orders",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("authorized on the domain named `*`"));
}

#[tokio::test]
async fn the_gate_authorizes_them_on_the_same_resources() {
    let dir = tmp("gate");
    let cfg = write_config(&dir);
    let server = serve_bin(&dir, &std::fs::read_to_string(&cfg).unwrap(), &[], None);
    let addr = server.addr();
    let lister = client(addr, LISTER);
    let listed = lister
        .list_domains()
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await;
    assert!(listed.is_ok(), "{listed:?}");
    let denied = lister
        .register_domain()
        .name("prod-x")
        .workflow_execution_retention_period_in_days("1")
        .send()
        .await
        .unwrap_err();
    let msg = format!("{:?}", denied.into_service_error());
    assert!(msg.contains("OperationNotPermittedFault"), "{msg}");
    assert!(
        msg.contains(
            "swf:RegisterDomain on resource: arn:aws:swf:us-east-1:123456789012:/domain/prod-x"
        ),
        "{msg}"
    );
    lister
        .register_domain()
        .name("dev-x")
        .workflow_execution_retention_period_in_days("1")
        .send()
        .await
        .unwrap();
    let narrow = client(addr, NARROW);
    let err = narrow
        .list_domains()
        .registration_status(aws_sdk_swf::types::RegistrationStatus::Registered)
        .send()
        .await
        .unwrap_err();
    let msg = format!("{:?}", err.into_service_error());
    assert!(
        msg.contains("swf:ListDomains on resource: arn:aws:swf:us-east-1:123456789012:/domain/*"),
        "{msg}"
    );
}

#[test]
fn the_analysis_treats_them_alike() {
    let dir = tmp("analysis");
    let cfg = write_config(&dir);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_swf-iam"))
            .args(args)
            .arg("--config")
            .arg(&cfg)
            .args(["--now", "2026-12-01T00:00:00Z"])
            .output()
            .unwrap()
    };
    let o = run(&["who-can", "swf:ListDomains"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("role/lister"), "{text}");
    assert!(!text.contains("role/narrow:"), "{text}");
    let o = run(&[
        "access",
        "--principal",
        "arn:aws:iam::123456789012:role/lister",
        "--action",
        "swf:ListDomains",
        "--action",
        "swf:RegisterDomain",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    // ListDomains: in us-east-1 (the domain `*`), never in eu-west-1.
    assert!(
        text.contains("swf:ListDomains:\n    in us-east-1"),
        "{text}"
    );
    // RegisterDomain: except `prod-*`, and not in eu-west-1.
    assert!(text.contains("except `prod-*`"), "{text}");
}
