//! `cargo xtask conformance`: the differential harnesses of `tests/support/conformance.rs`
//! on the whole corpora of real files (`tests/corpus/`), written to CONFORMANCE.md with the
//! command and the reference tools' versions.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::process::Command;

use crate::conformance_support as c;
use crate::util::{dk_bin, root, run};

fn version(cmd: &[&str]) -> String {
    Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|e| format!("not installed ({e})"))
}

fn top(list: &std::collections::BTreeMap<String, Vec<String>>) -> String {
    let mut v: Vec<(&String, &Vec<String>)> = list.iter().collect();
    v.sort_by_key(|(r, l)| (std::cmp::Reverse(l.len()), *r));
    v.iter()
        .map(|(r, l)| format!("{r} {}", l.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn main(_args: &[String]) {
    println!("building dk (release)...");
    run(Command::new("cargo")
        .args(["build", "--release", "-p", "dk"])
        .current_dir(root()));
    let dk = dk_bin();
    let ids: BTreeSet<String> = dk::lint::hadolint_ids()
        .into_iter()
        .map(String::from)
        .collect();
    let pid = std::process::id();
    let files = c::dockerfiles();
    println!("lint: {} Dockerfiles against Hadolint...", files.len());
    let lint = c::lint_corpus(&dk, &files, &ids, &format!("dkconf{pid}"));
    let compose = c::compose_files();
    println!(
        "import: {} Compose files against docker-compose...",
        compose.len()
    );
    let imp = c::compose_corpus(&dk, &compose, &format!("dkconf{pid}"));

    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Conformance on real files\n\n`cargo xtask conformance` on the corpora in `tests/corpus/` (every file's repository, path,\ncommit and license in `tests/corpus/SOURCES.tsv`). References: {}; docker-compose {}.\nThe suite runs a fixed sample of both (`conformance::*`; `DK_CORPUS_STEP=1` runs everything).\n\nNot measured yet: the corpora hold {} Dockerfiles and {} Compose projects (from two\nrepositories; the goal is 300 and 150, from many); Compose is compared on whether both\nread a file and dk plans it, not yet key by key on the resolved model; what a build *sees*\nof `.dockerignore` (dk against the Docker CLI) is not part of this run.\n",
        version(&["hadolint", "--version"]),
        version(&["docker-compose", "version", "--short"]),
        c::dockerfiles().len(),
        c::compose_files().len()
    );
    let compared = lint.files - lint.hadolint_unparsed.len();
    let _ = writeln!(
        md,
        "## `dk lint` against Hadolint ({} Dockerfiles)\n\nOver the Hadolint ids dk implements ({}), findings as (file, rule, line):\n\n| | |\n|---|---|\n| files compared | {compared} (Hadolint could not parse {}: DL1000, a limit of the reference) |\n| found by both | {} |\n| dk only | {} ({}) |\n| Hadolint only | {} ({}) |\n| **agreement** (Jaccard) | **{:.3}** |\n",
        lint.files,
        ids.iter().cloned().collect::<Vec<_>>().join(", "),
        lint.hadolint_unparsed.len(),
        lint.both,
        lint.dk_only_count(),
        top(&lint.dk_only),
        lint.hadolint_only_count(),
        top(&lint.hadolint_only),
        lint.agreement()
    );
    if !lint.hadolint_unparsed.is_empty() {
        let _ = writeln!(
            md,
            "Hadolint stops with DL1000 (a parse error) on {} files, which BuildKit builds and dk reads: Hadolint 2.15 cannot read an instruction or comment on the line right after a heredoc's end (`tests/dk/hadolint_diff.rs::hadolint_limits_dk_does_not_share` shows it):\n",
            lint.hadolint_unparsed.len()
        );
        for f in &lint.hadolint_unparsed {
            let _ = writeln!(md, "- {f}");
        }
        md.push('\n');
    }
    for (title, list) in [
        ("dk only", &lint.dk_only),
        ("Hadolint only", &lint.hadolint_only),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(md, "{title}, first cases per rule:\n");
        for (rule, cases) in list {
            let _ = writeln!(
                md,
                "- {rule}: {}",
                cases.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
            );
        }
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "`dk plan` of each Dockerfile as its own node: {} of {} plan.\n",
        lint.files - lint.plan_refused.len(),
        lint.files
    );
    for (f, e) in &lint.plan_refused {
        let _ = writeln!(md, "- {f}: {e}");
    }
    let _ = writeln!(
        md,
        "\n## `dk import compose` + `dk plan` ({} Compose files)\n\n| | |\n|---|---|\n| `docker-compose config` accepts | {} |\n| dk imports and plans | **{}** |\n",
        imp.files,
        imp.files - imp.reference_refused.len(),
        imp.planned
    );
    for (f, e) in &imp.reference_refused {
        let _ = writeln!(
            md,
            "- docker-compose 1.29 refuses {f}: {e} — {}",
            c::v1_difference(e)
                .map(|r| format!("a v1 difference: {r}; dk imports it"))
                .unwrap_or_else(|| "not classified".into())
        );
    }
    for (f, e) in &imp.refused {
        let _ = writeln!(md, "- dk refuses {f}: {e}");
    }
    std::fs::write(root().join("CONFORMANCE.md"), &md).unwrap();
    println!("\n{md}");
}
