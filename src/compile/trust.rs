//! Trust policies compiled: a role's `AssumeRolePolicyDocument` → [`CompiledTrustPolicy`].
//!
//! A trust policy is a resource-based policy whose resource is the role: each statement
//! has a principal part (`Principal`/`NotPrincipal`), an action part (STS actions only)
//! and conditions; it has no resource part. Values are normalized once here (an account
//! ID becomes its root ARN), so that matching a caller is comparisons only
//! ([`crate::eval::trust`]).

use super::condition::CompiledCondition;
use super::{ActionPart, LoadedPolicy};
use crate::policy::model::{Effect, Version};
use crate::text::{Origin, SourceFile};
use std::sync::Arc;

/// One entry of a principal part, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalMatch {
    /// `"*"` or `{"AWS": "*"}`: every caller.
    Anyone,
    /// An account (`"123456789012"` or `arn:aws:iam::123456789012:root`), kept as the
    /// root ARN: every principal of the account.
    Account(Box<str>),
    /// A user, role, assumed-role session or federated user ARN, exactly.
    Arn(Box<str>),
    /// `{"Service": ...}`: an AWS service (never an IAM user or role session).
    Service(Box<str>),
    /// `{"Federated": ...}`: a web identity or SAML provider (AssumeRoleWithWebIdentity
    /// and AssumeRoleWithSAML only).
    Federated(Box<str>),
    /// `{"CanonicalUser": ...}`: an S3 canonical user (never an STS caller).
    CanonicalUser(Box<str>),
}

/// A statement's principal part.
#[derive(Debug, Clone)]
pub struct PrincipalPart {
    /// `NotPrincipal` rather than `Principal`.
    pub negated: bool,
    /// The entries (values of every principal type).
    pub entries: Box<[PrincipalMatch]>,
}

/// One compiled trust-policy statement.
#[derive(Debug, Clone)]
pub struct TrustStatement {
    /// Position in the policy's `Statement` list.
    pub index: u32,
    /// `Sid`, if any.
    pub sid: Option<Box<str>>,
    /// Effect.
    pub effect: Effect,
    /// 1-based line of the statement.
    pub line: usize,
    /// 1-based column of the statement.
    pub column: usize,
    /// 1-based line where the statement ends.
    pub end_line: usize,
    /// Principal part.
    pub principals: PrincipalPart,
    /// Action part.
    pub actions: ActionPart,
    /// Conditions (all must hold).
    pub conditions: Box<[CompiledCondition]>,
}

/// A role's trust policy, compiled. Immutable; share it behind an `Arc`.
#[derive(Debug, Clone)]
pub struct CompiledTrustPolicy {
    /// The policy's name (path or inline reference).
    pub name: String,
    /// Its source, for explanations.
    pub source: SourceFile,
    /// Where its text sits in a larger file, if it does.
    pub origin: Option<Arc<Origin>>,
    /// Its statements, in document order.
    pub statements: Vec<TrustStatement>,
    /// The language version in force.
    pub version: Version,
}

/// The normalized form of one principal value of type `kind`. `None` for a value no
/// caller can match (validation refuses those before this point).
pub fn principal_match(kind: &str, value: &str) -> Option<PrincipalMatch> {
    Some(match kind {
        "AWS" if value == "*" => PrincipalMatch::Anyone,
        "AWS" => {
            if crate::swf::arn::check_account(value).is_ok() {
                return Some(PrincipalMatch::Account(
                    format!("arn:aws:iam::{value}:root").into(),
                ));
            }
            let fields: Vec<&str> = value.splitn(6, ':').collect();
            match fields.as_slice() {
                ["arn", _, "iam", "", _, "root"] => PrincipalMatch::Account(value.into()),
                ["arn", _, "iam" | "sts", "", _, _] => PrincipalMatch::Arn(value.into()),
                _ => return None,
            }
        }
        "Service" => PrincipalMatch::Service(value.into()),
        "Federated" => PrincipalMatch::Federated(value.into()),
        "CanonicalUser" => PrincipalMatch::CanonicalUser(value.into()),
        _ => return None,
    })
}

impl CompiledTrustPolicy {
    /// Compiles a trust policy loaded (and so validated) as [`crate::PolicyKind::Trust`].
    pub fn compile(p: &LoadedPolicy) -> Self {
        let version = p.document.language();
        let v2012 = version == Version::V2012_10_17;
        let mut statements = Vec::new();
        for st in &p.document.statements {
            let Some(effect) = st.effect() else { continue };
            let Some(actions) = ActionPart::of(st) else {
                continue;
            };
            // A statement without a principal part never applies (validation refuses
            // it; a statement that matches nobody is the fail-closed reading).
            let principals = match &st.principals {
                Some(el) if !el.malformed => {
                    let mut entries = Vec::new();
                    if el.star {
                        entries.push(PrincipalMatch::Anyone);
                    }
                    for e in &el.entries {
                        for v in &e.values.items {
                            if let Some(m) = principal_match(&e.kind.value, &v.value) {
                                entries.push(m);
                            }
                        }
                    }
                    PrincipalPart {
                        negated: el.negated,
                        entries: entries.into(),
                    }
                }
                _ => PrincipalPart {
                    negated: false,
                    entries: Box::new([]),
                },
            };
            let conditions = super::conditions_of(st, v2012);
            let lc = p.line_col(st.loc.span.start);
            let end_line = p.line_col(st.loc.span.end.saturating_sub(1)).line;
            statements.push(TrustStatement {
                index: st.index as u32,
                sid: st.sid.as_ref().map(|s| s.value.as_str().into()),
                effect,
                line: lc.line,
                column: lc.column,
                end_line,
                principals,
                actions,
                conditions,
            });
        }
        CompiledTrustPolicy {
            name: p.name.clone(),
            source: p.source.clone(),
            origin: p.origin.clone(),
            statements,
            version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalized() {
        assert_eq!(
            principal_match("AWS", "123456789012"),
            Some(PrincipalMatch::Account(
                "arn:aws:iam::123456789012:root".into()
            ))
        );
        assert_eq!(
            principal_match("AWS", "arn:aws:iam::123456789012:root"),
            Some(PrincipalMatch::Account(
                "arn:aws:iam::123456789012:root".into()
            ))
        );
        assert_eq!(principal_match("AWS", "*"), Some(PrincipalMatch::Anyone));
        assert_eq!(
            principal_match("AWS", "arn:aws:iam::123456789012:role/w"),
            Some(PrincipalMatch::Arn(
                "arn:aws:iam::123456789012:role/w".into()
            ))
        );
        assert_eq!(principal_match("AWS", "worker"), None);
        assert_eq!(
            principal_match("Service", "ec2.amazonaws.com"),
            Some(PrincipalMatch::Service("ec2.amazonaws.com".into()))
        );
        assert_eq!(principal_match("Bogus", "x"), None);
    }
}
