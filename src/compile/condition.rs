//! Compiled conditions: operator, lowercased key, and values pre-parsed for their family.

use super::template::{tokens, ArnPattern, Template};
use crate::pattern::Pattern;
use crate::policy::model::{BaseOperator, ConditionKey, Operator, OperatorFamily};
use crate::values::{parse_bool, parse_instant, Cidr, Decimal, Instant};

/// A condition's values, parsed once for the operator's family. `None` marks a value
/// that does not parse: it never matches (a negated operator counts it as not matched).
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// `StringEquals`, `StringNotEquals`: exact templates.
    Exact(Box<[Template]>),
    /// `...IgnoreCase`: case-folded templates.
    Folded(Box<[Template]>),
    /// `StringLike`, `StringNotLike`: wildcard patterns (variables allowed).
    Like(Box<[Pattern]>),
    /// `Numeric*`: the text of each valid decimal.
    Numeric(Box<[Option<Box<str>>]>),
    /// `Date*`.
    Date(Box<[Option<Instant>]>),
    /// `Bool` and `Null`.
    Bool(Box<[Option<bool>]>),
    /// `BinaryEquals`: decoded bytes.
    Binary(Box<[Option<Vec<u8>>]>),
    /// `IpAddress`, `NotIpAddress`.
    Ip(Box<[Option<Cidr>]>),
    /// `Arn*`.
    Arn(Box<[ArnPattern]>),
}

/// One key test of a statement's `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledCondition {
    /// The operator.
    pub op: Operator,
    /// The context key, lowercased for lookup.
    pub key: Box<str>,
    /// [`crate::hash::key_hash`] of `key`.
    pub key_hash: u64,
    /// The key as written, for explanations.
    pub key_display: Box<str>,
    /// Whether the key is multivalued (evaluated as `ForAnyValue:` without a set operator).
    pub multivalued: bool,
    /// The values.
    pub values: Values,
}

impl CompiledCondition {
    /// Compiles one key under `op`, for a document of the given language version.
    pub fn new(op: Operator, key: &ConditionKey, v2012: bool) -> Self {
        let vals = key.values.iter().map(|v| v.value.as_str());
        let values = match (op.base.family(), op.base) {
            (
                OperatorFamily::String,
                BaseOperator::StringEquals | BaseOperator::StringNotEquals,
            ) => Values::Exact(vals.map(|v| Template::new(v, v2012, false)).collect()),
            (OperatorFamily::String, BaseOperator::StringLike | BaseOperator::StringNotLike) => {
                Values::Like(
                    vals.map(|v| Pattern::from_tokens(tokens(v, v2012, true)))
                        .collect(),
                )
            }
            (OperatorFamily::String, _) => {
                Values::Folded(vals.map(|v| Template::new(v, v2012, true)).collect())
            }
            (OperatorFamily::Numeric, _) => {
                Values::Numeric(vals.map(|v| Decimal::parse(v).map(|_| v.into())).collect())
            }
            (OperatorFamily::Date, _) => Values::Date(vals.map(parse_instant).collect()),
            (OperatorFamily::Bool | OperatorFamily::Null, _) => {
                Values::Bool(vals.map(parse_bool).collect())
            }
            (OperatorFamily::Binary, _) => Values::Binary(
                vals.map(|v| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD.decode(v).ok()
                })
                .collect(),
            ),
            (OperatorFamily::Ip, _) => Values::Ip(vals.map(Cidr::parse).collect()),
            (OperatorFamily::Arn, _) => {
                Values::Arn(vals.map(|v| ArnPattern::new(v, v2012)).collect())
            }
        };
        let name = key.key.value.as_str();
        let lower = name.to_ascii_lowercase();
        CompiledCondition {
            op,
            key_hash: crate::hash::key_hash(&lower),
            key: lower.into_boxed_str(),
            key_display: name.into(),
            multivalued: crate::keys::global_key(name).is_some_and(|g| g.multivalued),
            values,
        }
    }
}
