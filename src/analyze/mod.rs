//! Access analysis: every request at once, exactly (`swf-iam access`, `who-can`, `diff`).
//!
//! For one principal and one SWF action, the requests that can differ are the domain and
//! the values (or absence) of the context keys the policies test; the principal's own
//! keys are fixed. Each dimension is partitioned by the constants the policies compare it
//! with — domain names by the resource patterns ([`automaton`]), string values by the
//! string patterns, numbers, dates and IP addresses by the constants' boundaries ([`reps`]),
//! multivalued keys by the sets of their values' classes — so that every request behaves
//! like one representative of its cell. Each cell's representative is then decided by
//! [`crate::eval::decide`] itself, so the analysis cannot drift from `check`. Where a
//! bound is reached or a comparison is not partitioned (a policy variable naming another
//! request key, ARN operators on request keys), the answer says `complete: false` and why.
//!
//! By stage: `space.rs` builds the dimensions of one region of the request space, with the
//! value classes of the time and of each key (`classes.rs`); `cells.rs` explores them,
//! deciding one request per cell; `extents.rs` merges cells into the sets of requests an
//! answer holds for, `witness.rs` writes a replayable request for each; `access.rs` and
//! `diff.rs` answer the commands. [`budget`] bounds all of it in time and memory.

pub mod automaton;
pub mod budget;
pub mod reps;

pub use budget::Budget;

mod access;
mod assume;
mod cells;
mod classes;
mod diff;
mod extents;
mod space;
mod witness;

use access::*;
pub use access::{access, analysis, Access, ActionAccess, Analysis, PrincipalAccess};
pub use assume::{assume_access, assume_graph, chains, AssumeAccess, Hop, MAX_HOPS};
use cells::*;
use classes::*;
pub use diff::{diff, Change, ChangeKind, PrincipalDiff};
use extents::*;
pub use extents::{Extent, KeyCondition};
pub use space::DomainClass;
use space::*;
use witness::*;

use crate::compile::condition::{CompiledCondition, Values};
use crate::compile::{CompiledPolicySet, CompiledStatement};
use crate::config::PrincipalConfig;
use crate::eval::{self, Context, ContextValue, DecisionKind, Request};
use crate::keys::{global_key, KeyType};
use crate::pattern::Token;
use crate::policy::model::{BaseOperator, OperatorFamily};
use crate::swf::catalog::{SwfAction, ACTIONS};
use crate::values::{parse_instant, Cidr, Decimal, Instant};
use automaton::{Glob, Rules, Sym};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Bounds of the analysis; reaching one makes an answer incomplete, never wrong.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most cells (combinations of classes) decided for one principal and action group.
    pub max_cells: usize,
    /// Most automaton states explored for one partition of strings.
    pub max_states: usize,
    /// Most value classes of a multivalued key whose every subset is tried.
    pub max_set_classes: usize,
    /// The time and memory the whole analysis may spend (unbounded by default; the
    /// command line sets `--time-budget` and `--memory-budget`).
    pub budget: Budget,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_cells: 200_000,
            max_states: 50_000,
            max_set_classes: 10,
            budget: Budget::default(),
        }
    }
}

/// What the requests look like: where domains live and how contexts are filled.
#[derive(Debug, Clone)]
pub struct Options {
    /// Partition of domain ARNs.
    pub partition: String,
    /// Account of the domains.
    pub account: String,
    /// Regions requests go to (each one its own part of the answer).
    pub regions: Vec<String>,
    /// The configuration's default region (`check` uses it for requests on `*`).
    pub default_region: String,
    /// Whether requests carry `check`'s request defaults (`aws:RequestedRegion`,
    /// `aws:SecureTransport` true, `aws:ViaAWSService` false, the time), with keys every
    /// request carries never absent; `false` is `--no-default-context`: every key not the
    /// principal's may be absent or hold any value.
    pub request_defaults: bool,
    /// The time used where no policy tests it (epoch seconds).
    pub now: i64,
    /// Only this domain (`who-can`).
    pub domain: Option<String>,
    /// Bounds.
    pub limits: Limits,
    /// Pattern partitions already computed (shared by clones of the options).
    pub cache: automaton::Cache,
}

/// Keys derived from the principal (fixed for an analysis of that principal).
const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:principalisawsservice",
];

/// Keys `check`'s request defaults fix (besides the time).
const DEFAULT_KEYS: &[&str] = &[
    "aws:requestedregion",
    "aws:securetransport",
    "aws:viaawsservice",
];

const TIME_KEYS: &[&str] = &["aws:currenttime", "aws:epochtime"];

/// One side of an analysis: a principal and its compiled policies.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The principal, its policies and its own keys.
    pub principal: &'a PrincipalConfig,
}

impl Side<'_> {
    fn set(&self) -> &CompiledPolicySet {
        &self.principal.compiled
    }
}

/// The principals of a configuration keyed by ARN (for [`diff`]).
pub fn by_arn(principals: &[PrincipalConfig]) -> HashMap<&str, &PrincipalConfig> {
    principals
        .iter()
        .map(|p| (p.principal.arn.as_str(), p))
        .collect()
}

/// Every SWF action of the catalog (operations and decisions), as [`access`] takes them.
pub fn all_actions() -> Vec<&'static SwfAction> {
    ACTIONS.iter().collect()
}
