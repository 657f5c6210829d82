//! Global condition keys (`aws:*`): their types and when a local gate can supply them
//! (`iam-policy.md` §7).

/// The type IAM gives a condition key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// A string.
    String,
    /// An ARN.
    Arn,
    /// A boolean.
    Bool,
    /// A date (ISO 8601 or epoch seconds).
    Date,
    /// A number.
    Numeric,
    /// An IP address.
    Ip,
}

/// What swf-iam knows of one global key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalKey {
    /// The key in AWS's spelling; a trailing `/` marks a tag-key prefix (`aws:PrincipalTag/`).
    pub name: &'static str,
    /// Its value type.
    pub ty: KeyType,
    /// Whether it is multivalued (needs `ForAnyValue:`/`ForAllValues:`).
    pub multivalued: bool,
    /// Whether every request at a local gate carries it (variables on it need no default).
    pub always_present: bool,
    /// Whether a local gate can ever supply it (false for VPC, `CalledVia`, source keys).
    pub available: bool,
}

const fn key(name: &'static str, ty: KeyType, always_present: bool) -> GlobalKey {
    GlobalKey {
        name,
        ty,
        multivalued: false,
        always_present,
        available: true,
    }
}

const fn never(name: &'static str, ty: KeyType, multivalued: bool) -> GlobalKey {
    GlobalKey {
        name,
        ty,
        multivalued,
        always_present: false,
        available: false,
    }
}

use KeyType::*;

/// The global keys swf-iam knows.
pub const GLOBAL_KEYS: &[GlobalKey] = &[
    key("aws:PrincipalArn", Arn, true),
    key("aws:PrincipalAccount", String, true),
    key("aws:PrincipalType", String, true),
    key("aws:userid", String, true),
    key("aws:username", String, false),
    key("aws:PrincipalTag/", String, false),
    key("aws:PrincipalIsAWSService", Bool, true),
    key("aws:ViaAWSService", Bool, true),
    key("aws:RequestedRegion", String, true),
    key("aws:SourceIp", Ip, true),
    key("aws:CurrentTime", Date, true),
    key("aws:EpochTime", Date, true),
    key("aws:SecureTransport", Bool, true),
    key("aws:UserAgent", String, true),
    key("aws:MultiFactorAuthPresent", Bool, false),
    key("aws:MultiFactorAuthAge", Numeric, false),
    key("aws:TokenIssueTime", Date, false),
    key("aws:PrincipalOrgID", String, false),
    key("aws:PrincipalOrgPaths", String, false),
    key("aws:ResourceTag/", String, false),
    key("aws:RequestTag/", String, false),
    key("aws:ResourceAccount", String, false),
    key("aws:ResourceOrgID", String, false),
    key("aws:ResourceOrgPaths", String, false),
    key("aws:PrincipalServiceName", String, false),
    key("aws:Referer", String, false),
    key("aws:FederatedProvider", String, false),
    key("aws:SourceIdentity", String, false),
    key("aws:RoleSessionName", String, false),
    key("aws:Ec2InstanceSourceVpc", String, false),
    key("aws:Ec2InstanceSourcePrivateIPv4", Ip, false),
    GlobalKey {
        name: "aws:TagKeys",
        ty: String,
        multivalued: true,
        always_present: false,
        available: true,
    },
    never("aws:CalledVia", String, true),
    never("aws:CalledViaFirst", String, false),
    never("aws:CalledViaLast", String, false),
    never("aws:PrincipalServiceNamesList", String, true),
    never("aws:SourceVpc", String, false),
    never("aws:SourceVpce", String, false),
    never("aws:VpcSourceIp", Ip, false),
    never("aws:SourceArn", Arn, false),
    never("aws:SourceAccount", String, false),
    never("aws:SourceOrgID", String, false),
    never("aws:SourceOrgPaths", String, true),
];

/// The request keys a decision inside `RespondDecisionTaskCompleted` never carries: SWF
/// evaluates decisions after the call, not as network requests (`docs/choices.md`).
pub const NOT_IN_DECISIONS: &[&str] = &["aws:SourceIp", "aws:UserAgent", "aws:SecureTransport"];

/// Looks up a global key, case-insensitively; tag keys match their prefix
/// (`aws:PrincipalTag/team` → `aws:PrincipalTag/`).
pub fn global_key(name: &str) -> Option<&'static GlobalKey> {
    GLOBAL_KEYS.iter().find(|k| {
        if k.name.ends_with('/') {
            name.len() > k.name.len()
                && name
                    .get(..k.name.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(k.name))
        } else {
            name.eq_ignore_ascii_case(k.name)
        }
    })
}

/// Checks a value given for a request's context key against the key's type: an IP
/// address for `aws:SourceIp`, a date (ISO 8601 or epoch seconds) for date keys,
/// `true`/`false` for boolean keys, a decimal for numeric keys. Keys swf-iam does not
/// know, and string or ARN keys, take any value.
pub fn check_request_value(key: &str, value: &str) -> Result<(), std::string::String> {
    let Some(k) = global_key(key) else {
        return Ok(());
    };
    let ok = match k.ty {
        KeyType::String | KeyType::Arn => true,
        KeyType::Ip => value.parse::<std::net::IpAddr>().is_ok(),
        KeyType::Date => crate::values::parse_instant(value).is_some(),
        KeyType::Bool => crate::values::parse_bool(value).is_some(),
        KeyType::Numeric => crate::values::Decimal::parse(value).is_some(),
    };
    if ok {
        return Ok(());
    }
    let what = match k.ty {
        KeyType::Ip => "an IP address (10.1.2.3, 2001:db8::1)",
        KeyType::Date => "a date (2026-12-01T10:00:00Z, or epoch seconds)",
        KeyType::Bool => "`true` or `false`",
        KeyType::Numeric => "a number",
        KeyType::String | KeyType::Arn => "a string",
    };
    Err(format!("`{key}` must be {what}, not `{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_values_have_their_key_type() {
        assert!(check_request_value("aws:SourceIp", "10.1.2.3").is_ok());
        assert!(check_request_value("aws:sourceip", "::1").is_ok());
        assert!(check_request_value("aws:CurrentTime", "2026-12-01T10:00:00Z").is_ok());
        assert!(check_request_value("aws:EpochTime", "1795600800").is_ok());
        assert!(check_request_value("aws:SecureTransport", "TRUE").is_ok());
        assert!(check_request_value("aws:MultiFactorAuthAge", "3600").is_ok());
        assert!(check_request_value("swf:activityType.name", "anything").is_ok());
        assert!(check_request_value("aws:PrincipalTag/team", "anything").is_ok());
        for (k, v) in [
            ("aws:SourceIp", "notanip"),
            ("aws:SourceIp", "10.0.0.0/8"),
            ("aws:CurrentTime", "yesterday"),
            ("aws:SecureTransport", "yes"),
            ("aws:MultiFactorAuthAge", "1h"),
        ] {
            let e = check_request_value(k, v).unwrap_err();
            assert!(e.contains(k), "{e}");
        }
    }

    #[test]
    fn lookups_ignore_case_and_match_tag_prefixes() {
        assert_eq!(global_key("AWS:SOURCEIP").unwrap().ty, KeyType::Ip);
        assert_eq!(
            global_key("aws:principaltag/Team").unwrap().name,
            "aws:PrincipalTag/"
        );
        assert!(global_key("aws:PrincipalTag/").is_none());
        assert!(global_key("aws:SourceIpx").is_none());
        assert!(global_key("aws:TagKeys").unwrap().multivalued);
        assert!(!global_key("aws:SourceVpce").unwrap().available);
    }
}
