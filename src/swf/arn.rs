//! SWF domain ARNs: `arn:PARTITION:swf:REGION:ACCOUNT:/domain/NAME`, built and parsed.

use std::fmt;

/// The partitions IAM accepts in resource ARNs.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// The regions of each partition (`"regions": "all"` in a configuration): the public
/// regions AWS lists for it, as of this release. A test convenience, so that a suite
/// signing for any region runs; a deployment names its regions.
pub fn partition_regions(partition: &str) -> &'static [&'static str] {
    match partition {
        "aws" => &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
        "aws-cn" => &["cn-north-1", "cn-northwest-1"],
        "aws-us-gov" => &["us-gov-east-1", "us-gov-west-1"],
        "aws-iso" => &["us-iso-east-1", "us-iso-west-1"],
        "aws-iso-b" => &["us-isob-east-1"],
        "aws-iso-e" => &["eu-isoe-west-1"],
        "aws-iso-f" => &["us-isof-east-1", "us-isof-south-1"],
        "aws-eusc" => &["eusc-de-east-1"],
        _ => &[],
    }
}

/// Why a domain ARN or one of its parts is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    /// Not six `:`-separated fields starting `arn:`.
    #[error("`{0}` is not an ARN of the form arn:PARTITION:swf:REGION:ACCOUNT:/domain/NAME")]
    Shape(String),
    /// The service field is not `swf`.
    #[error("`{0}` is not an SWF ARN (service must be `swf`)")]
    Service(String),
    /// Unknown partition.
    #[error("unknown partition `{0}` (expected one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)")]
    Partition(String),
    /// Not a region name like `us-east-1`.
    #[error("`{0}` is not a region name like `us-east-1`")]
    Region(String),
    /// Not a 12-digit account ID.
    #[error("`{0}` is not a 12-digit account ID")]
    Account(String),
    /// The resource part is not `/domain/NAME`.
    #[error("resource `{0}` is not `/domain/NAME`")]
    Resource(String),
    /// The domain name breaks SWF's naming rules.
    #[error("invalid domain name `{name}`: {reason}")]
    DomainName {
        /// The name as given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
}

/// A parsed SWF domain ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainArn {
    /// Partition, e.g. `aws`.
    pub partition: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// 12-digit account ID.
    pub account: String,
    /// Domain name.
    pub domain: String,
}

/// Checks SWF's domain-name rules: 1–256 characters, no leading or trailing
/// whitespace, none of `:`, `/`, `|` or control characters, and not the literal `arn`.
pub fn check_domain_name(name: &str) -> Result<(), ArnError> {
    let bad = |reason| {
        Err(ArnError::DomainName {
            name: name.to_owned(),
            reason,
        })
    };
    let len = name.chars().count();
    if len == 0 {
        return bad("it is empty");
    }
    if len > 256 {
        return bad("it is longer than 256 characters");
    }
    if name.trim() != name {
        return bad("it has leading or trailing whitespace");
    }
    if name.contains([':', '/', '|']) {
        return bad("it contains `:`, `/` or `|`");
    }
    if name
        .chars()
        .any(|c| matches!(c as u32, 0x00..=0x1f | 0x7f..=0x9f))
    {
        return bad("it contains a control character");
    }
    if name == "arn" {
        return bad("it is the literal `arn`");
    }
    Ok(())
}

/// Checks a region name, AWS's grammar `[a-z]{2}(-[a-z]+)+-[0-9]+`: a two-letter area,
/// lowercase letter groups joined by `-`, ending in a number (`us-east-1`,
/// `us-gov-west-1`, `cn-north-1`, `eu-isoe-west-1`). Nothing else (no `:`, `/`, `*`,
/// upper case or space) can pass, so a checked region never changes an ARN's shape.
pub fn check_region(region: &str) -> Result<(), ArnError> {
    let letters = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_lowercase());
    let mut groups = region.split('-');
    let first = groups.next().unwrap_or("");
    let mut ok = first.len() == 2 && letters(first);
    let (mut count, mut last) = (1, "");
    for g in groups {
        // Every group before the last is letters only.
        if count >= 2 {
            ok &= letters(last);
        }
        last = g;
        count += 1;
    }
    ok &= count >= 3 && !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ArnError::Region(region.to_owned()))
    }
}

/// Checks the resource of a request: `*`, or an ARN
/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` (six fields, a known partition, a
/// service, a resource; region and account may be empty, as for global services). A
/// request names one resource, and IAM matches it as text: `*` and `?` in it are plain
/// characters (a domain may be named `team-*`; `ListDomains` is authorized on the domain
/// named `*`), never patterns. An `swf` ARN must be a domain ARN that passes
/// [`DomainArn::parse`].
pub fn check_request_resource(resource: &str) -> Result<(), String> {
    if resource == "*" {
        return Ok(());
    }
    let fields: Vec<&str> = resource.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, rest] = fields.as_slice() else {
        return Err(format!(
            "`{resource}` is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or `*`"
        ));
    };
    if *prefix != "arn" || service.is_empty() || rest.is_empty() {
        return Err(format!(
            "`{resource}` is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or `*`"
        ));
    }
    if !PARTITIONS.contains(partition) {
        return Err(format!("`{partition}` in `{resource}` is not a partition"));
    }
    if !region.is_empty() {
        check_region(region).map_err(|e| format!("`{resource}`: {e}"))?;
    }
    if !account.is_empty() {
        check_account(account).map_err(|e| format!("`{resource}`: {e}"))?;
    }
    if *service == "swf" {
        DomainArn::parse(resource).map_err(|e| format!("`{resource}`: {e}"))?;
    }
    Ok(())
}

/// The region of a resource ARN (`aws:RequestedRegion` of a request on it): its fourth
/// field, when the ARN has one; `None` for `*` and region-less ARNs.
pub fn region_of(resource: &str) -> Option<&str> {
    let mut fields = resource.splitn(6, ':');
    if fields.next() != Some("arn") {
        return None;
    }
    let region = fields.nth(2)?;
    (!region.is_empty() && fields.next().is_some()).then_some(region)
}

/// Checks a 12-digit account ID.
pub fn check_account(account: &str) -> Result<(), ArnError> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ArnError::Account(account.to_owned()))
    }
}

impl DomainArn {
    /// Builds a domain ARN, checking every part.
    pub fn new(
        partition: &str,
        region: &str,
        account: &str,
        domain: &str,
    ) -> Result<Self, ArnError> {
        if !PARTITIONS.contains(&partition) {
            return Err(ArnError::Partition(partition.to_owned()));
        }
        check_region(region)?;
        check_account(account)?;
        check_domain_name(domain)?;
        Ok(DomainArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            domain: domain.to_owned(),
        })
    }

    /// The ARN text of a domain, checking every part as [`DomainArn::new`] does, without
    /// building the struct (the gate's hot path).
    pub fn format_checked(
        partition: &str,
        region: &str,
        account: &str,
        domain: &str,
    ) -> Result<String, ArnError> {
        if !PARTITIONS.contains(&partition) {
            return Err(ArnError::Partition(partition.to_owned()));
        }
        check_region(region)?;
        check_account(account)?;
        check_domain_name(domain)?;
        Ok(format!(
            "arn:{partition}:swf:{region}:{account}:/domain/{domain}"
        ))
    }

    /// Parses `arn:PARTITION:swf:REGION:ACCOUNT:/domain/NAME`, checking every part.
    pub fn parse(arn: &str) -> Result<Self, ArnError> {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = fields.as_slice() else {
            return Err(ArnError::Shape(arn.to_owned()));
        };
        if *prefix != "arn" {
            return Err(ArnError::Shape(arn.to_owned()));
        }
        if *service != "swf" {
            return Err(ArnError::Service(arn.to_owned()));
        }
        let Some(domain) = resource.strip_prefix("/domain/") else {
            return Err(ArnError::Resource((*resource).to_owned()));
        };
        Self::new(partition, region, account, domain)
    }
}

impl fmt::Display for DomainArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:swf:{}:{}:/domain/{}",
            self.partition, self.region, self.account, self.domain
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = DomainArn::new("aws", "us-east-1", "123456789012", "orders").unwrap();
        let s = a.to_string();
        assert_eq!(s, "arn:aws:swf:us-east-1:123456789012:/domain/orders");
        assert_eq!(DomainArn::parse(&s).unwrap(), a);
        assert!(
            DomainArn::parse("arn:aws-us-gov:swf:us-gov-west-1:123456789012:/domain/x").is_ok()
        );
    }

    #[test]
    fn rejects_bad_parts() {
        use ArnError::*;
        let e = |s: &str| DomainArn::parse(s).unwrap_err();
        assert!(matches!(e("arn:aws:swf:us-east-1:123456789012"), Shape(_)));
        assert!(matches!(
            e("xrn:aws:swf:us-east-1:123456789012:/domain/x"),
            Shape(_)
        ));
        assert!(matches!(
            e("arn:aws:sqs:us-east-1:123456789012:/domain/x"),
            Service(_)
        ));
        assert!(matches!(
            e("arn:amazon:swf:us-east-1:123456789012:/domain/x"),
            Partition(_)
        ));
        assert!(matches!(
            e("arn:aws:swf::123456789012:/domain/x"),
            Region(_)
        ));
        assert!(matches!(
            e("arn:aws:swf:US-EAST-1:123456789012:/domain/x"),
            Region(_)
        ));
        assert!(matches!(
            e("arn:aws:swf:us-east-1:12345:/domain/x"),
            Account(_)
        ));
        assert!(matches!(
            e("arn:aws:swf:us-east-1:123456789012:domain/x"),
            Resource(_)
        ));
        assert!(matches!(
            e("arn:aws:swf:us-east-1:123456789012:/domain/a:b"),
            DomainName { .. }
        ));
    }

    #[test]
    fn domain_name_rules() {
        assert!(check_domain_name("orders-1.prod_eu").is_ok());
        assert!(check_domain_name(&"x".repeat(256)).is_ok());
        for bad in [
            "", " x", "x ", "a/b", "a|b", "a:b", "a\u{7}b", "a\u{85}b", "arn",
        ] {
            assert!(check_domain_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_domain_name(&"x".repeat(257)).is_err());
        assert!(check_domain_name("ARN").is_ok());
    }

    #[test]
    fn request_resources_and_their_regions() {
        for ok in [
            "*",
            "arn:aws:swf:us-east-1:123456789012:/domain/orders",
            "arn:aws:s3:::bucket/key",
            "arn:aws:iam::123456789012:role/x",
            "arn:aws-cn:swf:cn-north-1:123456789012:/domain/a",
            // Names holding `*` and `?` are names: IAM matches them as text.
            "arn:aws:swf:us-east-1:123456789012:/domain/*",
            "arn:aws:swf:us-east-1:123456789012:/domain/team-*",
            "arn:aws:swf:us-east-1:123456789012:/domain/why?",
            "arn:aws:s3:::bucket/*.log",
        ] {
            assert!(check_request_resource(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "orders",
            "arn:aws:swf",
            "arn:aws:swf:us-east-1:123456789012",
            "arn:aws:swf:us-east-1:123456789012:",
            "arn:nope:swf:us-east-1:123456789012:/domain/a",
            "arn:aws:swf:us-east-1:123456789012:/domain/a|b",
            "arn:aws:swf:*:123456789012:/domain/a",
            "arn:aws:swf:us-east-1:123456789012:domain/a",
            "arn:aws:swf:useast1:123456789012:/domain/a",
            "arn:aws:swf:us-east-1:12:/domain/a",
            "ARN:aws:swf:us-east-1:123456789012:/domain/a",
        ] {
            assert!(check_request_resource(bad).is_err(), "{bad}");
        }
        assert_eq!(
            region_of("arn:aws:swf:eu-west-1:123456789012:/domain/orders"),
            Some("eu-west-1")
        );
        assert_eq!(region_of("arn:aws:s3:::bucket"), None);
        assert_eq!(region_of("*"), None);
        assert_eq!(region_of("arn:aws:swf:eu-west-1"), None);
    }

    #[test]
    fn region_names_follow_aws_grammar() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "eu-isoe-west-1",
            "ap-southeast-10",
        ] {
            assert!(check_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "useast-1",
            "u-east-1",
            "use-east-1",
            "us-east-1a",
            "us--east-1",
            "-east-1",
            "us-east-",
            "US-EAST-1",
            "us-east-1:1",
            "us-east-1/x",
            "us-*-1",
            "us-east-1 ",
            "us-ea1st-1",
        ] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// No region string, however built, changes the shape of a domain ARN: it either
        /// fails the region check, or the ARN has exactly six fields and parses back with
        /// the same region, account and domain.
        #[test]
        fn no_region_string_changes_the_arn_shape(
            region in proptest::prop_oneof![
                "[a-z]{2}(-[a-z]{1,6}){1,3}-[0-9]{1,2}",
                "[a-z0-9:/*?\\- ]{0,24}",
                proptest::string::string_regex("\\PC{0,24}").unwrap(),
            ],
            suffix in "(|:123456789012|/x|:|\\*)",
        ) {
            let region = format!("{region}{suffix}");
            match DomainArn::new("aws", &region, "123456789012", "orders") {
                Err(_) => {
                    proptest::prop_assert!(check_region(&region).is_err());
                    proptest::prop_assert!(
                        DomainArn::format_checked("aws", &region, "123456789012", "orders").is_err()
                    );
                }
                Ok(arn) => {
                    let text = arn.to_string();
                    proptest::prop_assert_eq!(
                        DomainArn::format_checked("aws", &region, "123456789012", "orders").ok(),
                        Some(text.clone())
                    );
                    proptest::prop_assert_eq!(text.split(':').count(), 6);
                    proptest::prop_assert!(!text.contains(['*', '?', ' ']));
                    let back = DomainArn::parse(&text).unwrap();
                    proptest::prop_assert_eq!(back.region, region);
                    proptest::prop_assert_eq!(back.account, "123456789012");
                    proptest::prop_assert_eq!(back.domain, "orders");
                }
            }
        }
    }
}
