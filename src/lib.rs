#![doc = include_str!("../README.md")]

pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnostic;
pub mod emulator;
pub mod eval;
pub mod gate;
pub mod json;
pub mod keys;
pub mod pattern;
pub mod policy;
pub mod proxy;
pub mod render;
pub mod server;
pub mod source;
pub mod swf;
pub mod testing;
pub mod validate;
pub mod values;

pub use diagnostic::{Finding, Severity};
pub use validate::{validate, PolicyKind, ValidationReport};
