//! Amazon SWF facts: the action catalog ([`catalog`]) and domain ARNs ([`arn`]).

pub mod arn;
pub mod catalog;

pub use arn::DomainArn;
pub use catalog::{action, SwfAction, ACTIONS};
