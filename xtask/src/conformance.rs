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

pub fn main(args: &[String]) {
    let sees: u64 = args
        .iter()
        .position(|a| a == "--sees")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--sees N: a number"))
        .unwrap_or(1000);
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
    let ignores = crate::buildsees::corpus_files();
    println!(
        "what a build sees: {sees} random cases and {} real .dockerignore files, dk against the Docker CLI...",
        ignores.len()
    );
    let mut cases: Vec<crate::buildsees::Case> =
        (1..=sees).map(crate::buildsees::random_case).collect();
    cases.extend(ignores.iter().map(|p| crate::buildsees::corpus_case(p)));
    // Two batches at a time: the daemon builds while the CLI waits.
    let seen = std::sync::Mutex::new(crate::buildsees::Outcome::default());
    let batches: Vec<&[crate::buildsees::Case]> = cases.chunks(100).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let b = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(batch) = batches.get(b) else { break };
                    let out = crate::buildsees::compare(&dk, batch, &format!("dksees{pid}b{b}"));
                    let mut seen = seen.lock().unwrap();
                    seen.cases += out.cases;
                    seen.classic.extend(out.classic);
                    seen.buildkit.extend(out.buildkit);
                    seen.reference_only.extend(out.reference_only);
                    println!("  {} cases done", seen.cases);
                }
            });
        }
    });
    let seen = seen.into_inner().unwrap();

    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Conformance on real files\n\n`cargo xtask conformance` on the corpora in `tests/corpus/` (every file's repository, path,\ncommit and license in `tests/corpus/SOURCES.tsv`). References: {}; docker-compose {}.\nThe suite runs a fixed sample of both (`conformance::*`; `DK_CORPUS_STEP=1` runs everything).\n\nThe corpora hold {} Dockerfiles, {} Compose projects and {} `.dockerignore` files.\n",
        version(&["hadolint", "--version"]),
        version(&["docker-compose", "version", "--short"]),
        c::dockerfiles().len(),
        c::compose_files().len(),
        ignores.len()
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
            "Hadolint stops with DL1000 (a parse error) on {} files, which BuildKit builds and dk reads: Hadolint 2.15 cannot read an instruction or comment on the line right after a heredoc's end, nor an argument on a tab-indented line after a line continuation (`tests/dk/hadolint_diff.rs::hadolint_limits_dk_does_not_share` shows both):\n",
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
    if !lint.needs_build_arg.is_empty() {
        let _ = writeln!(
            md,
            "\nThese need a build arg that nothing in them sets (their projects set it when they build them); given one (`scratch`), they plan and are linted like the rest: {}.\n",
            lint.needs_build_arg.join(", ")
        );
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
        let _ = writeln!(
            md,
            "- dk refuses {f}: {e} — {}",
            c::spec_refusal(e)
                .map(|r| format!("the specification refuses it too: {r}"))
                .unwrap_or_else(|| "not classified".into())
        );
    }
    let _ = writeln!(
        md,
        "\nThe resolved models (`dk import compose --config` against `docker-compose config`), service\nby service and key by key over the files both read, after the forms 1.29 prints are\nnormalized (durations, `$$` escaping, `volumes_from` and port long forms, target paths;\n`environment` is compared where a service has no `env_file`, which 1.29 folds into it):\n**{} (service, key) pairs compared, {} differing**.\n",
        imp.keys_compared,
        imp.key_differences
            .iter()
            .map(|(_, d)| d.len())
            .sum::<usize>()
    );
    for (f, d) in &imp.key_differences {
        let _ = writeln!(md, "- {f}: {}", d.join("; "));
    }
    let _ = writeln!(
        md,
        "\n## What a build sees of `.dockerignore` ({} cases)\n\n{} random trees and patterns (seeds 1..={sees}) and a tree made for each of the corpus's {} real\n`.dockerignore` files: what `COPY . /ctx/` puts in the image, dk's build against today's\nDocker CLI's (`docker build`, DOCKER_BUILDKIT=0; today's CLI and BuildKit share one matcher).\n\n| | |\n|---|---|\n| dk, classic builder: differences | **{}** |\n| dk, BuildKit (context served through dk's session): differences | **{}** |\n| the BuildKit CLI here ({}) differs from today's CLI while dk agrees with today's | {} |\n\nThe last row is a limit of the reference: the BuildKit client built into the Docker CLI\nhere predates `MatchesUsingParentResults` and re-includes by an older rule\n(`tests/dk/ignore_diff.rs::the_buildkit_cli_here_re_includes_by_an_older_rule` shows one).\n",
        seen.cases,
        sees,
        ignores.len(),
        seen.classic.len(),
        seen.buildkit.len(),
        crate::buildsees::buildkit_cli()
            .map(|p| version(&[
                &p.display().to_string(),
                "version",
                "--format",
                "{{.Client.Version}}"
            ]))
            .unwrap_or_else(|e| e),
        seen.reference_only.len()
    );
    for d in seen.classic.iter().chain(&seen.buildkit).take(20) {
        let _ = writeln!(md, "```\n{d}\n```");
    }
    std::fs::write(root().join("CONFORMANCE.md"), &md).unwrap();
    println!("\n{md}");
}
