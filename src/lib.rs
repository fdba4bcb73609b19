//! dk: build, test, promote and run a graph of containers through the Docker daemon.
//!
//! See ARCHITECTURE.md for the code map and the invariants.

pub mod app;
pub mod audit;
pub mod build;
pub mod checks;
pub mod cli;
pub mod config;
pub mod context;
pub mod docker;
pub mod dockerfile;
pub mod engine;
pub mod error;
pub mod graph;
pub mod ignore;
pub mod junit;
pub mod launch;
pub mod lint;
pub mod live;
pub mod lock;
pub mod manifest;
pub mod mounts;
pub mod names;
pub mod net;
pub mod plan;
pub mod prep;
pub mod promote;
pub mod records;
pub mod render;
pub mod report;
pub mod scheduler;
pub mod stage;
pub mod testrun;
pub mod tomlfile;
pub mod units;
pub mod userns;
pub mod vcs;
pub mod workspace;

pub use error::{Error, Result};
