//! `cargo xtask bench`: no-op build cost of dk, side by side with one cached `docker build`,
//! on the example workspace and on a generated 100-node workspace. Results go to
//! BENCHMARKS.md with the command and the machine.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::util::{busybox, dk_bin, machine, median_of, ms, remove_images, root, run};

const RUNS: usize = 11;

/// A workspace of `n` nodes: a busybox baseline, then layers of containers each built
/// FROM a node of the layer above (a graph 5 deep), each with a few files.
pub fn generate(dir: &Path, n: usize, namespace: &str) {
    let w = |rel: &str, content: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    };
    w("dk.toml", &format!("namespace = \"{namespace}\"\n"));
    std::fs::create_dir_all(dir.join("baseline")).unwrap();
    busybox(&dir.join("baseline/busybox"));
    w(
        "baseline/Dockerfile",
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n",
    );
    let layer = (n - 1).div_ceil(5).max(1);
    for i in 1..n {
        let name = format!("c{i:03}");
        let parent = if i <= layer {
            "baseline".to_string()
        } else {
            format!("c{:03}", i - layer)
        };
        w(
            &format!("containers/{name}/Dockerfile"),
            &format!("FROM {parent}\nCOPY files/ /srv/{name}/\n"),
        );
        for f in 0..5 {
            w(
                &format!("containers/{name}/files/f{f}.txt"),
                &format!("{name} file {f}\n"),
            );
        }
    }
}

fn dk(workspace: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(dk_bin());
    c.arg("-C").arg(workspace).args(args);
    c
}

pub fn main() {
    println!("building dk (release)...");
    run(Command::new("cargo")
        .args(["build", "--release", "-p", "dk"])
        .current_dir(root()));
    let machine = machine();
    println!("machine: {machine}");

    // 1. The example workspace.
    let example = root();
    let ns_example = format!("dkbench{}", std::process::id());
    println!("example workspace: first build (namespace {ns_example})...");
    let mut first = dk(&example, &["build"]);
    first.env("DK_NAMESPACE", &ns_example);
    run(&mut first);
    let example_noop = median_of(RUNS, || {
        let mut c = dk(&example, &["build"]);
        c.env("DK_NAMESPACE", &ns_example);
        c
    });
    println!("  dk build no-op (4 nodes): {}", ms(example_noop));

    // 2. One cached `docker build` of a single node: the web container's directory, built
    //    FROM the baseline image dk just made.
    let single = tempfile_dir("dk-bench-single");
    let base = format!("{ns_example}/baseline:latest");
    std::fs::write(
        single.join("Dockerfile"),
        format!("FROM {base}\nCOPY files/ /\n"),
    )
    .unwrap();
    copy_dir(&root().join("containers/web/files"), &single.join("files"));
    let tag = format!("{ns_example}/single:cached");
    let docker_build = || {
        let mut c = Command::new("docker");
        c.env("DOCKER_BUILDKIT", "0")
            .args(["build", "-q", "-t", &tag])
            .arg(&single);
        c
    };
    run(&mut docker_build());
    let docker_cached = median_of(RUNS, docker_build);
    println!(
        "  docker build, one node, fully cached: {}",
        ms(docker_cached)
    );

    // 3. A generated 100-node workspace.
    let big = tempfile_dir("dk-bench-100");
    let ns_big = format!("dkbench100x{}", std::process::id());
    generate(&big, 100, &ns_big);
    println!("100-node workspace: first build...");
    run(&mut dk(&big, &["build", "-j", "4"]));
    let big_noop = median_of(RUNS, || dk(&big, &["build"]));
    println!("  dk build no-op (100 nodes): {}", ms(big_noop));

    remove_images(&ns_example);
    remove_images(&ns_big);
    let _ = std::fs::remove_dir_all(&big);
    let _ = std::fs::remove_dir_all(&single);

    let ratio = docker_cached.as_secs_f64() / example_noop.as_secs_f64();
    let mut report = String::new();
    let _ = writeln!(report, "# Benchmarks\n");
    let _ = writeln!(
        report,
        "Produced by `cargo xtask bench` (medians of {RUNS} runs, wall time of the whole process).\n"
    );
    let _ = writeln!(report, "Machine: {machine}.\n");
    let _ = writeln!(report, "## No-op build\n");
    let _ = writeln!(report, "| what | median | target |");
    let _ = writeln!(report, "|---|---|---|");
    let _ = writeln!(
        report,
        "| `dk build`, example workspace (4 nodes), nothing changed | {} | < half of the cached `docker build` |",
        ms(example_noop)
    );
    let _ = writeln!(
        report,
        "| `docker build` of one node, fully cached (classic builder) | {} | |",
        ms(docker_cached)
    );
    let _ = writeln!(
        report,
        "| `dk build`, generated 100-node workspace, nothing changed | {} | < 150 ms |",
        ms(big_noop)
    );
    let _ = writeln!(
        report,
        "\ndk's whole no-op on the example workspace costs {:.2}× less than one cached `docker build` of one of its nodes ({}).",
        ratio,
        verdict(example_noop * 2 < docker_cached)
    );
    let _ = writeln!(
        report,
        "The 100-node no-op: {} ({}).",
        ms(big_noop),
        verdict(big_noop < Duration::from_millis(150))
    );
    std::fs::write(root().join("BENCHMARKS.md"), &report).unwrap();
    println!("\n{report}");
}

fn verdict(ok: bool) -> &'static str {
    if ok { "target met" } else { "TARGET MISSED" }
}

fn tempfile_dir(prefix: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}
