//! Developer tasks: `cargo xtask test`, `cargo xtask bench`, `cargo xtask chaos`,
//! `cargo xtask conformance`, `cargo xtask fuzz`, `cargo xtask man`.

mod bench;
// What a build sees of its context, dk against the Docker CLI (shared with tests/dk/ignore_diff.rs).
#[path = "../../tests/support/buildsees.rs"]
mod buildsees;
mod chaos;
mod cluster;
// The multi-node Swarm rig `test` starts once for the suite (shared with tests/dk/swarm.rs).
mod conformance;
#[allow(dead_code)]
#[path = "../../tests/support/cluster.rs"]
mod rig;
// The differential harnesses on the real-file corpora (shared with tests/dk/conformance.rs).
#[path = "../../tests/support/conformance.rs"]
mod conformance_support;
// The replacement cases the suite samples (tests/dk/deploy.rs) and `chaos` runs at length.
#[path = "../../tests/support/deploy_chaos.rs"]
mod deploy_chaos;
mod fuzz;
mod man;
#[path = "../../tests/support/rng.rs"]
mod rng;
// The second daemon and the registry the integration tests start (not every part is used).
#[allow(dead_code)]
#[path = "../../tests/support/parts.rs"]
mod parts;
mod test;
mod util;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench::main(&args[1..]),
        Some("chaos") => chaos::main(&args[1..]),
        Some("conformance") => conformance::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("test") => test::main(&args[1..]),
        Some("man") => man::main(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n  test [ARGS…]               install what the tests need, check the daemon, run them\n  bench [cluster|up|pictures|thousand|outdated]\n                             benchmarks side by side; writes BENCHMARKS.md (cluster: only\n                             the registry and Swarm rows; up: only the `dk up` rows;\n                             pictures: the 1000-node pictures in Chromium; thousand: the\n                             1000-node no-op rows; outdated: `dk outdated` on 100 pins;\n                             printed)\n  conformance [--sees N]     dk lint vs Hadolint, dk import vs docker-compose (key by key) on\n                             the real-file corpora of tests/corpus/, and what a build sees of\n                             .dockerignore (N random cases, default 1000, and the corpus's\n                             files) against the Docker CLI; writes CONFORMANCE.md\n  chaos [--runs N] [--seed S] [--cases N] [--only replacements]\n                             fault injection; writes RELIABILITY.md\n  fuzz [--seconds N]          fuzz the three parsers (default 600 s each); writes fuzz/RESULTS.md\n  man [DIR]                  man pages from the clap tree (default target/man)"
            );
            std::process::exit(2);
        }
    }
}
