//! SWF's wire errors (awsJson1.0, `swf.md` §1.3–1.4): the `__type`, HTTP status and
//! message of every error swf-iam answers with.

use serde_json::json;

/// A modeled SWF fault (`com.amazonaws.swf.base.model#<Fault>`, HTTP 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The resource is absent or no longer available.
    UnknownResourceFault,
    /// The caller lacks permission.
    OperationNotPermittedFault,
    /// The domain exists (or is deprecated).
    DomainAlreadyExistsFault,
    /// The domain is deprecated.
    DomainDeprecatedFault,
    /// The type exists.
    TypeAlreadyExistsFault,
    /// The type is deprecated.
    TypeDeprecatedFault,
    /// The type is not deprecated.
    TypeNotDeprecatedFault,
    /// A parameter has no value and no default.
    DefaultUndefinedFault,
    /// An open execution with that workflow ID exists.
    WorkflowExecutionAlreadyStartedFault,
    /// A limit was exceeded.
    LimitExceededFault,
    /// More than 50 tags.
    TooManyTagsFault,
}

impl Fault {
    /// The fault's short name.
    pub fn name(self) -> &'static str {
        match self {
            Fault::UnknownResourceFault => "UnknownResourceFault",
            Fault::OperationNotPermittedFault => "OperationNotPermittedFault",
            Fault::DomainAlreadyExistsFault => "DomainAlreadyExistsFault",
            Fault::DomainDeprecatedFault => "DomainDeprecatedFault",
            Fault::TypeAlreadyExistsFault => "TypeAlreadyExistsFault",
            Fault::TypeDeprecatedFault => "TypeDeprecatedFault",
            Fault::TypeNotDeprecatedFault => "TypeNotDeprecatedFault",
            Fault::DefaultUndefinedFault => "DefaultUndefinedFault",
            Fault::WorkflowExecutionAlreadyStartedFault => "WorkflowExecutionAlreadyStartedFault",
            Fault::LimitExceededFault => "LimitExceededFault",
            Fault::TooManyTagsFault => "TooManyTagsFault",
        }
    }
}

/// Every error an SWF endpoint answers with, front-end (Coral) errors included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A modeled SWF fault.
    #[error("{name}: {1}", name = .0.name())]
    Fault(Fault, String),
    /// Input validation (`com.amazon.coral.validate#ValidationException`).
    #[error("ValidationException: {0}")]
    Validation(String),
    /// The body is not JSON, or a member has the wrong JSON type.
    #[error("SerializationException: {0}")]
    Serialization(String),
    /// Missing, malformed or unknown `X-Amz-Target`.
    #[error("UnknownOperationException: {0}")]
    UnknownOperation(String),
    /// No `Authorization` header.
    #[error("MissingAuthenticationTokenException")]
    MissingAuthenticationToken,
    /// A malformed `Authorization` header.
    #[error("IncompleteSignatureException: {0}")]
    IncompleteSignature(String),
    /// Unknown access key ID or session token.
    #[error("UnrecognizedClientException")]
    UnrecognizedClient,
    /// The session token of temporary credentials has expired.
    #[error("ExpiredTokenException")]
    ExpiredToken,
    /// The signature does not match, or is expired (the message says which).
    #[error("InvalidSignatureException: {0}")]
    InvalidSignature(String),
    /// An internal error (HTTP 500).
    #[error("InternalFailure: {0}")]
    InternalFailure(String),
    /// The upstream of a proxy could not be reached in time, or the endpoint is at its
    /// connection limit (HTTP 503).
    #[error("ServiceUnavailableException: {0}")]
    ServiceUnavailable(String),
    /// The request body did not arrive in time (HTTP 408; SDKs retry it).
    #[error("RequestTimeoutException: {0}")]
    RequestTimeout(String),
    /// Too much at once: the endpoint's shared body budget is spent (HTTP 400
    /// `ThrottlingException`, as AWS throttles; SDKs retry it with backoff).
    #[error("ThrottlingException: {0}")]
    Throttling(String),
}

/// The message AWS sends for a signature that does not match.
pub const MSG_BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl WireError {
    /// A fault with a message.
    pub fn fault(f: Fault, message: impl Into<String>) -> Self {
        WireError::Fault(f, message.into())
    }

    /// The full `__type` (`com.amazonaws.swf.base.model#UnknownResourceFault`, ...).
    pub fn type_name(&self) -> String {
        match self {
            WireError::Fault(f, _) => format!("com.amazonaws.swf.base.model#{}", f.name()),
            WireError::Validation(_) => "com.amazon.coral.validate#ValidationException".into(),
            other => format!("com.amazon.coral.service#{}", other.short_name()),
        }
    }

    /// The short error name, as `x-amzn-ErrorType` carries it.
    pub fn short_name(&self) -> &'static str {
        match self {
            WireError::Fault(f, _) => f.name(),
            WireError::Validation(_) => "ValidationException",
            WireError::Serialization(_) => "SerializationException",
            WireError::UnknownOperation(_) => "UnknownOperationException",
            WireError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            WireError::IncompleteSignature(_) => "IncompleteSignatureException",
            WireError::UnrecognizedClient => "UnrecognizedClientException",
            WireError::ExpiredToken => "ExpiredTokenException",
            WireError::InvalidSignature(_) => "InvalidSignatureException",
            WireError::InternalFailure(_) => "InternalFailure",
            WireError::ServiceUnavailable(_) => "ServiceUnavailableException",
            WireError::RequestTimeout(_) => "RequestTimeoutException",
            WireError::Throttling(_) => "ThrottlingException",
        }
    }

    /// The HTTP status: 400, except 500 for internal failures, 503 when unavailable and
    /// 408 for a body that did not arrive in time.
    pub fn status(&self) -> u16 {
        match self {
            WireError::InternalFailure(_) => 500,
            WireError::ServiceUnavailable(_) => 503,
            WireError::RequestTimeout(_) => 408,
            _ => 400,
        }
    }

    /// The `message` member.
    pub fn message(&self) -> String {
        match self {
            WireError::Fault(_, m)
            | WireError::Validation(m)
            | WireError::Serialization(m)
            | WireError::UnknownOperation(m)
            | WireError::IncompleteSignature(m)
            | WireError::InvalidSignature(m)
            | WireError::InternalFailure(m)
            | WireError::ServiceUnavailable(m)
            | WireError::RequestTimeout(m)
            | WireError::Throttling(m) => m.clone(),
            WireError::MissingAuthenticationToken => {
                "Request is missing Authentication Token".into()
            }
            WireError::UnrecognizedClient => {
                "The security token included in the request is invalid.".into()
            }
            WireError::ExpiredToken => {
                "The security token included in the request is expired".into()
            }
        }
    }

    /// The JSON body: `{"__type": ..., "message": ...}`.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({"__type": self.type_name(), "message": self.message()}))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let e = WireError::fault(
            Fault::OperationNotPermittedFault,
            "User: x is not authorized",
        );
        assert_eq!(
            e.type_name(),
            "com.amazonaws.swf.base.model#OperationNotPermittedFault"
        );
        assert_eq!(e.status(), 400);
        assert_eq!(
            String::from_utf8(e.body()).unwrap(),
            r#"{"__type":"com.amazonaws.swf.base.model#OperationNotPermittedFault","message":"User: x is not authorized"}"#
        );
        assert_eq!(
            WireError::UnrecognizedClient.type_name(),
            "com.amazon.coral.service#UnrecognizedClientException"
        );
        assert_eq!(
            WireError::Validation("x".into()).type_name(),
            "com.amazon.coral.validate#ValidationException"
        );
        assert_eq!(
            WireError::MissingAuthenticationToken.message(),
            "Request is missing Authentication Token"
        );
        assert_eq!(WireError::InternalFailure("x".into()).status(), 500);
    }
}
