//! `cargo xtask fuzz [--seconds N]`: run each cargo-fuzz target for N seconds (default 600)
//! over the corpus kept in fuzz/corpus, and write fuzz/RESULTS.md.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use crate::util::root;

pub const TARGETS: [&str; 3] = ["manifest", "dockerfile", "dockerignore"];

pub fn main(args: &[String]) {
    let seconds: u64 = match args {
        [flag, n] if flag == "--seconds" => n.parse().expect("--seconds N"),
        [] => 600,
        _ => panic!("usage: cargo xtask fuzz [--seconds N]"),
    };
    let dir = root().join("fuzz");
    let mut md = String::new();
    let _ = writeln!(
        md,
        "`cargo xtask fuzz --seconds {seconds}` (cargo-fuzz, libFuzzer, no sanitizer, one job per target):\n"
    );
    let _ = writeln!(md, "| target | time | executions | corpus | result |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    let mut failed = false;
    for t in TARGETS {
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
        let _ = writeln!(
            md,
            "| {t} | {:.0}s | {runs} | {corpus} inputs | {result} |",
            started.elapsed().as_secs_f64()
        );
    }
    std::fs::write(dir.join("RESULTS.md"), &md).unwrap();
    println!("\n{md}");
    if failed {
        std::process::exit(1);
    }
}
