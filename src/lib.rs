#![doc = include_str!("../README.md")]

pub mod analyze;
#[cfg(feature = "cli")]
pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnostic;
#[cfg(feature = "server")]
pub mod emulator;
pub mod eval;
pub mod files;
#[cfg(feature = "server")]
pub mod gate;
pub mod hash;
pub mod importers;
pub mod json;
pub mod keys;
#[cfg(feature = "server")]
pub mod net;
pub mod pattern;
pub mod policy;
#[cfg(feature = "server")]
pub mod proxy;
pub mod render;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod sts;
pub mod suggest;
pub mod swf;
pub mod testing;
pub mod text;
#[cfg(feature = "server")]
pub mod ui;
pub mod validate;
pub mod values;

pub use diagnostic::{Finding, Severity};
pub use validate::{validate, PolicyKind, ValidationReport};
