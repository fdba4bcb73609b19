//! dk: build, test, promote and run a graph of containers through the Docker daemon.
//!
//! See ARCHITECTURE.md for the code map and the invariants. The public modules are what the
//! binary, the integration tests, the fuzz targets and the benchmarks use; everything else
//! is private to the crate.

/// The layers of `src/`, bottom first: a module may use modules of its own layer or of a
/// layer below, never above, and no two modules may use each other through any path.
/// `tests/dk/architecture.rs` parses `src/` and checks both (and that ARCHITECTURE.md shows
/// this table); every module is in exactly one layer.
#[rustfmt::skip]
pub const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["error", "ids", "units", "tomlfile", "names", "state", "labels", "secret", "report", "scheduler", "shell", "vcs", "ignore", "dockerfile", "net", "userns", "layout", "emulation"]),
    ("daemon", &["docker", "credentials", "regclient"]),
    ("definitions", &["manifest", "config", "local", "compose"]),
    ("workspace", &["workspace", "graph", "mounts", "secrets", "launch", "settings"]),
    ("state", &["records", "lock"]),
    ("mechanisms", &["context", "stage", "checks", "ready", "hadolint", "shellcheck", "lint", "lintfix", "import", "pins"]),
    ("engine", &["engine", "freshness", "converge"]),
    ("verbs", &["build", "adopt", "plan", "testrun", "junit", "audit", "promote", "switch", "live", "swarm", "jobs", "push", "prune", "prep", "boot", "lintrun", "picture", "outdated", "owners"]),
    ("output", &["cli", "render", "results", "completions", "svg", "runreport"]),
    ("cli", &["app"]),
];

mod adopt;
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
mod converge;
mod credentials;
mod docker;
pub mod dockerfile;
mod emulation;
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
mod layout;
pub mod lint;
mod lintfix;
mod lintrun;
mod live;
mod local;
mod lock;
pub mod manifest;
mod mounts;
mod names;
mod net;
mod outdated;
mod owners;
mod picture;
mod pins;
pub mod plan;
mod prep;
mod promote;
mod prune;
mod push;
mod ready;
mod records;
mod regclient;
mod render;
pub mod report;
mod results;
mod runreport;
mod scheduler;
pub mod secret;
mod secrets;
mod settings;
mod shell;
mod shellcheck;
mod stage;
mod state;
mod svg;
mod swarm;
mod switch;
mod testrun;
pub mod tomlfile;
mod units;
mod userns;
mod vcs;
pub mod workspace;

pub use error::{Error, Result};
