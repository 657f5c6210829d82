//! Policy documents: the model ([`model`]), the parser ([`mod@parse`]) and policy variables ([`variables`]).

pub mod model;
pub mod parse;
pub mod variables;

pub use model::{Effect, PolicyDocument, Statement, Version};
pub use parse::{parse, Parsed};
