//! Amazon SWF facts: the action catalog ([`catalog`]), domain ARNs ([`arn`]), what a
//! call asks IAM ([`request`]) and the errors SWF answers with ([`wire`]).

pub mod arn;
pub mod catalog;
pub mod model;
pub mod request;
pub mod wire;

pub use arn::DomainArn;
pub use catalog::{action, SwfAction, ACTIONS};
