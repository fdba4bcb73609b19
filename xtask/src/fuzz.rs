//! `cargo xtask fuzz [--seconds N] [TARGET…]`: run each cargo-fuzz target (default: all) for
//! N seconds (default 600) over the corpus kept in fuzz/corpus; fuzz/RESULTS.md keeps one row
//! per target, replaced by each new run of it. Afterwards the corpus is minimized
//! (`cargo fuzz cmin`) so what the repository keeps is the inputs that add coverage.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use crate::util::root;

pub const TARGETS: [&str; 3] = ["manifest", "dockerfile", "dockerignore"];

pub fn main(args: &[String]) {
    let mut seconds = 600u64;
    let mut targets: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seconds" {
            seconds = it.next().and_then(|n| n.parse().ok()).expect("--seconds N");
        } else if let Some(t) = TARGETS.iter().find(|t| **t == a.as_str()) {
            targets.push(t);
        } else {
            panic!("unknown argument {a}; targets: {}", TARGETS.join(", "));
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    let dir = root().join("fuzz");
    let results = dir.join("RESULTS.md");
    // Rows of earlier runs, by target.
    let mut rows: BTreeMap<String, String> = std::fs::read_to_string(&results)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let t = l.strip_prefix("| ")?.split(' ').next()?;
            TARGETS.contains(&t).then(|| (t.to_string(), l.to_string()))
        })
        .collect();
    let mut failed = false;
    for t in targets {
        println!("fuzzing {t} for {seconds}s...");
        let started = Instant::now();
        let out = Command::new("cargo")
            .current_dir(&dir)
            .args(["fuzz", "run", "-s", "none", t])
            .arg(format!("corpus/{t}"))
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-print_final_stats=1",
            ])
            .output()
            .expect("run cargo fuzz (cargo install cargo-fuzz)");
        let log = String::from_utf8_lossy(&out.stderr).to_string();
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into());
        // Keep the corpus in the repository small: only inputs that add coverage.
        let cmin = Command::new("cargo")
            .current_dir(&dir)
            .args(["fuzz", "cmin", "-s", "none", t])
            .arg(format!("corpus/{t}"))
            .output()
            .expect("run cargo fuzz cmin");
        if !cmin.status.success() {
            println!(
                "  {t}: corpus minimization failed:\n{}",
                String::from_utf8_lossy(&cmin.stderr)
            );
        }
        let corpus = std::fs::read_dir(dir.join("corpus").join(t))
            .map(|r| r.count())
            .unwrap_or(0);
        let ok = out.status.success();
        failed |= !ok;
        let result = if ok {
            "no crash".to_string()
        } else {
            let crash = log
                .lines()
                .rev()
                .find(|l| l.contains("artifact"))
                .unwrap_or("crashed");
            format!("CRASH: {crash}")
        };
        println!("  {t}: {result} ({runs} executions)");
        rows.insert(
            t.to_string(),
            format!(
                "| {t} | {:.0}s | {runs} | {corpus} inputs | {result} | `cargo xtask fuzz --seconds {seconds} {t}` |",
                started.elapsed().as_secs_f64()
            ),
        );
    }
    let mut md = String::from(
        "cargo-fuzz (libFuzzer, no sanitizer, one job per target), over the corpus in fuzz/corpus (minimized with `cargo fuzz cmin` after each run; the count is after minimization):\n\n",
    );
    let _ = writeln!(
        md,
        "| target | time | executions | corpus | result | command |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for row in rows.values() {
        let _ = writeln!(md, "{row}");
    }
    std::fs::write(&results, &md).unwrap();
    println!("\n{md}");
    if failed {
        std::process::exit(1);
    }
}
