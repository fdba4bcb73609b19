//! dk's integration tests: one binary, one fixture (`crate::common::TestWs`), against the real
//! daemon. Every test workspace has a unique namespace and subnets of its own; a guard
//! removes whatever it created, even when the test fails.

mod architecture;
mod audit;
mod boot;
mod build;
mod buildkit;
// Shared with `cargo xtask conformance` (the 1000 cases).
#[path = "../support/buildsees.rs"]
mod buildsees;
// The multi-node Swarm rig (shared with `cargo xtask test`, which starts one for the suite).
#[allow(dead_code)]
#[path = "../support/cluster.rs"]
mod cluster;
mod common;
mod conformance;
// Shared with `cargo xtask conformance` (the whole corpora).
#[path = "../support/conformance.rs"]
mod conformance_support;
mod context;
mod day_two;
mod definitions;
mod deploy;
mod emulation;
// Shared with `cargo xtask chaos` (the long run).
#[path = "../support/deploy_chaos.rs"]
mod deploy_chaos;
mod hadolint_diff;
mod ignore_diff;
mod import;
mod lint;
mod multiarch;
mod picture;
// Shared with `cargo xtask bench`, which uses parts the tests do not.
#[allow(dead_code)]
#[path = "../support/parts.rs"]
mod parts;
mod registry;
mod remote;
#[path = "../support/rng.rs"]
mod rng;
mod settings;
mod swarm;
mod test_promote;
mod up;
mod update;
