//! dk: build, test, promote and run a graph of containers through the Docker daemon.
//!
//! See ARCHITECTURE.md for the code map and the invariants. The public modules are what the
//! binary, the integration tests, the fuzz targets and the benchmarks use; everything else
//! is private to the crate.

pub mod app;
pub mod audit;
mod boot;
pub mod build;
mod checks;
pub mod cli;
mod completions;
mod compose;
pub mod config;
mod context;
mod credentials;
mod docker;
pub mod dockerfile;
pub mod engine;
pub mod error;
mod freshness;
mod graph;
mod hadolint;
pub mod ids;
pub mod ignore;
mod import;
mod jobs;
mod junit;
mod labels;
mod launch;
pub mod lint;
mod lintfix;
mod live;
mod local;
mod lock;
pub mod manifest;
mod mounts;
mod names;
mod net;
pub mod plan;
mod prep;
mod promote;
mod prune;
mod push;
mod ready;
mod records;
mod render;
pub mod report;
mod scheduler;
mod secrets;
mod shell;
mod shellcheck;
mod stage;
mod state;
mod swarm;
mod switch;
mod testrun;
pub mod tomlfile;
mod units;
mod userns;
mod vcs;
pub mod workspace;

pub use error::{Error, Result};
