//! The policy document model: the shape of an IAM policy with a location on every node.
//!
//! The model is faithful rather than judged: it keeps raw strings (`Effect`, `Version`,
//! operator names) so that [`mod@crate::validate`] can report IAM's exact verdict. Only a
//! document that validated without errors is compiled for evaluation.

use crate::text::{Pointer, Span};

/// Where a node is: its source span and its JSON pointer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Loc {
    /// Byte span of the node's value in the source text.
    pub span: Span,
    /// JSON pointer of the node, e.g. `/Statement/1/NotAction`.
    pub pointer: Pointer,
}

/// A value with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it is.
    pub loc: Loc,
}

/// The policy language version named by `Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Version {
    /// `2012-10-17`: the current language, with policy variables.
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
    /// `2008-10-17`, or no `Version`: policy variables are literal text.
    #[serde(rename = "2008-10-17")]
    V2008_10_17,
}

/// A statement's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

impl Effect {
    /// `Allow` or `Deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A policy document as written.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    /// `Version` as written (`None` when absent).
    pub version: Option<Spanned<String>>,
    /// `Id`, if present.
    pub id: Option<Spanned<String>>,
    /// The statements; a single statement object is a one-element list.
    pub statements: Vec<Statement>,
    /// Location of the whole document.
    pub loc: Loc,
    /// Location of the `Statement` element's value, if present.
    pub statement_loc: Option<Loc>,
    /// Location of a top-level `Conditions` element (accepted and ignored, like moto).
    pub conditions_element: Option<Loc>,
}

impl PolicyDocument {
    /// The language version in force: `2012-10-17` only when written exactly so.
    pub fn language(&self) -> Version {
        match self.version.as_ref().map(|v| v.value.as_str()) {
            Some("2012-10-17") => Version::V2012_10_17,
            _ => Version::V2008_10_17,
        }
    }
}

/// A list of strings given as one string or a JSON array (`Action`, `Resource`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct StringList {
    /// The entries, in document order.
    pub items: Vec<Spanned<String>>,
    /// Location of the element's value.
    pub loc: Loc,
    /// Span of the element's name, quotes included.
    pub key_span: Span,
    /// Whether the value was written as an array (an empty array has no items).
    pub is_array: bool,
    /// Whether the element had the wrong JSON type (a syntax error was reported and
    /// `items` holds only the well-typed entries).
    pub malformed: bool,
    /// How many array entries were `null`. IAM accepts them; they are not in `items`
    /// and match nothing, but they make the list non-empty.
    pub nulls: usize,
}

impl StringList {
    /// Whether the element has any entry, `null` ones included (IAM's emptiness check).
    pub fn has_entries(&self) -> bool {
        !self.items.is_empty() || self.nulls > 0
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the `Statement` list, from 0.
    pub index: usize,
    /// Location of the statement object.
    pub loc: Loc,
    /// `Sid`, if present.
    pub sid: Option<Spanned<String>>,
    /// `Effect` as written, if it was a string.
    pub effect: Option<Spanned<String>>,
    /// `Action`, if present and well-typed.
    pub action: Option<StringList>,
    /// `NotAction`, if present and well-typed.
    pub not_action: Option<StringList>,
    /// `Resource`, if present and well-typed.
    pub resource: Option<StringList>,
    /// `NotResource`, if present and well-typed.
    pub not_resource: Option<StringList>,
    /// Location of `Principal` or `NotPrincipal`, if present (not allowed in identity policies).
    pub principal: Option<Loc>,
    /// The `Principal` or `NotPrincipal` element as parsed (trust and resource-based
    /// policies), when it was well-typed.
    pub principals: Option<PrincipalElement>,
    /// `Condition` operators, in document order (empty when absent or `{}`).
    pub conditions: Vec<ConditionOperator>,
}

impl Statement {
    /// The effect, when written exactly `Allow` or `Deny`.
    pub fn effect(&self) -> Option<Effect> {
        match self.effect.as_ref().map(|e| e.value.as_str()) {
            Some("Allow") => Some(Effect::Allow),
            Some("Deny") => Some(Effect::Deny),
            _ => None,
        }
    }
}

/// A statement's `Principal` (or `NotPrincipal`) element.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalElement {
    /// `NotPrincipal` rather than `Principal`.
    pub negated: bool,
    /// Location of the element's value.
    pub loc: Loc,
    /// `"Principal": "*"` (everyone, anonymous callers included).
    pub star: bool,
    /// The `{"AWS": ..., "Service": ..., ...}` entries, in document order.
    pub entries: Vec<PrincipalEntry>,
    /// Neither `"*"` nor an object (another string, a number, ...).
    pub malformed: bool,
}

/// One `"AWS"`/`"Service"`/`"Federated"`/`"CanonicalUser"` member of a principal element.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalEntry {
    /// The member's name as written (`AWS`, `Service`, ...).
    pub kind: Spanned<String>,
    /// Its values.
    pub values: StringList,
}

/// One `operator: {key: values}` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionOperator {
    /// The operator name as written (`ForAnyValue:StringLikeIfExists`).
    pub name: Spanned<String>,
    /// The parsed operator; `None` for an unknown name (ignored only when it has no keys).
    pub operator: Option<Operator>,
    /// The keys under the operator, in document order.
    pub keys: Vec<ConditionKey>,
}

/// One `key: value | [values]` entry under a condition operator.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionKey {
    /// The key name as written (matched case-insensitively).
    pub key: Spanned<String>,
    /// The values; empty for `[]`.
    pub values: Vec<Spanned<String>>,
    /// Location of the value (string or array).
    pub loc: Loc,
}

/// A condition operator: optional set prefix, base operator, optional `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// `ForAnyValue:` / `ForAllValues:` prefix, if any.
    pub set: Option<SetOperator>,
    /// The base operator.
    pub base: BaseOperator,
    /// Whether the name ends in `IfExists`.
    pub if_exists: bool,
}

/// The set-operator prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOperator {
    /// `ForAnyValue:`: some request value satisfies the operator.
    ForAnyValue,
    /// `ForAllValues:`: every request value satisfies the operator.
    ForAllValues,
}

macro_rules! base_operators {
    ($($name:ident),* $(,)?) => {
        /// The 27 base condition operators of the IAM policy language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum BaseOperator { $(
            #[doc = concat!("`", stringify!($name), "`.")]
            $name,
        )* }

        impl BaseOperator {
            /// Every base operator.
            pub const ALL: &'static [BaseOperator] = &[$(BaseOperator::$name),*];

            /// The operator's exact name.
            pub fn name(self) -> &'static str {
                match self { $(BaseOperator::$name => stringify!($name)),* }
            }
        }
    };
}

base_operators!(
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
);

/// The family an operator compares values in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorFamily {
    /// `String*`.
    String,
    /// `Numeric*`.
    Numeric,
    /// `Date*`.
    Date,
    /// `Bool`.
    Bool,
    /// `BinaryEquals`.
    Binary,
    /// `IpAddress`, `NotIpAddress`.
    Ip,
    /// `Arn*`.
    Arn,
    /// `Null`.
    Null,
}

impl BaseOperator {
    /// Looks up an exact, case-sensitive operator name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// The operator's family.
    pub fn family(self) -> OperatorFamily {
        use BaseOperator::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => OperatorFamily::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => OperatorFamily::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => OperatorFamily::Date,
            Bool => OperatorFamily::Bool,
            BinaryEquals => OperatorFamily::Binary,
            IpAddress | NotIpAddress => OperatorFamily::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => OperatorFamily::Arn,
            Null => OperatorFamily::Null,
        }
    }

    /// Whether the operator is a negation (true when the request value matches none).
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values (`String*`, `Arn*`).
    pub fn takes_variables(self) -> bool {
        matches!(self.family(), OperatorFamily::String | OperatorFamily::Arn)
    }
}

impl Operator {
    /// Parses an operator name as IAM does: strip one `ForAnyValue:`/`ForAllValues:` prefix,
    /// then one `IfExists` suffix, then require an exact base name.
    pub fn parse(name: &str) -> Option<Self> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOperator::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetOperator::ForAllValues), r)
        } else {
            (None, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        Some(Operator {
            set,
            base: BaseOperator::from_name(base)?,
            if_exists,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_parse_like_iam() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(op.set, Some(SetOperator::ForAnyValue));
        assert_eq!(op.base, BaseOperator::StringLike);
        assert!(op.if_exists);
        assert_eq!(
            Operator::parse("NullIfExists").unwrap().base,
            BaseOperator::Null
        );
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("ForAnyValue::StringEquals").is_none());
        assert!(Operator::parse("ForAnyValue:ForAllValues:StringEquals").is_none());
        assert!(Operator::parse("StringEqualsIfExistsIfExists").is_none());
        assert!(Operator::parse("IfExists").is_none());
        assert_eq!(BaseOperator::ALL.len(), 27);
    }

    #[test]
    fn negation_and_families() {
        assert!(BaseOperator::NotIpAddress.is_negated());
        assert!(!BaseOperator::Null.is_negated());
        assert!(BaseOperator::ArnLike.takes_variables());
        assert!(!BaseOperator::DateEquals.takes_variables());
    }
}
