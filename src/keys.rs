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

#[cfg(test)]
mod tests {
    use super::*;

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
