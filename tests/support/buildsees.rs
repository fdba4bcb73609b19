//! What a build *sees* of its context: the files `COPY . /ctx/` puts in the image, dk against
//! the Docker CLI, with the classic builder and with BuildKit. Shared by the suite
//! (`ignore_diff::a_build_sees_*`, a fixed sample) and `cargo xtask conformance` (1000
//! random cases and every real `.dockerignore` of the corpus).
//!
//! A batch of cases is one workspace with one node per case (`FROM scratch`, `COPY . /ctx/`,
//! the case's tree and `.dockerignore`): `dk build` builds them all, the reference CLI
//! builds each node directory, and one `docker save` of every image gives each image's
//! paths under `ctx/`. Every image and directory made is removed before returning.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::rng::Rng;

/// One case: files (relative paths; the content is the path) and a `.dockerignore`.
#[derive(Debug, Clone)]
pub struct Case {
    /// Where it comes from: `seed N` or a corpus file.
    pub origin: String,
    pub files: Vec<String>,
    pub dockerignore: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builder {
    Classic,
    BuildKit,
}

impl Builder {
    pub fn name(self) -> &'static str {
        match self {
            Builder::Classic => "classic",
            Builder::BuildKit => "buildkit",
        }
    }
}

const NAMES: &[&str] = &[
    "a",
    "b",
    "t",
    "x.txt",
    "a.txt",
    "foo",
    "xfoo",
    "build",
    "keep",
    "README.md",
    "b.md",
    "bin",
    "t.txt",
    "ab",
];

/// A random tree under `dir`: returns its relative file paths (directories may be empty).
pub fn tree(rng: &mut Rng, dir: &Path, depth: usize, prefix: &str, out: &mut Vec<String>) {
    for _ in 0..(1 + rng.below(4)) {
        let name = rng.pick(NAMES);
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        let p = dir.join(&rel);
        if p.exists() {
            continue;
        }
        if depth < 3 && rng.below(2) == 0 {
            std::fs::create_dir_all(&p).unwrap();
            tree(rng, dir, depth + 1, &rel, out);
        } else {
            std::fs::write(&p, rel.as_bytes()).unwrap();
            out.push(rel);
        }
    }
}

/// A random pattern, mostly made of names that are in the tree.
pub fn pattern(rng: &mut Rng, files: &[String]) -> String {
    let p = match rng.below(9) {
        0 => "**/".to_string() + rng.pick(&["*.txt", "?.txt", "foo", "keep", "*"]),
        1 => rng
            .pick(&["*", "*.md", "?", "a*", "[ab]", "[!a]*", "**", "**foo", "b?"])
            .into(),
        2 => format!("{}/**", rng.pick(&["a", "build", "t", "b"])),
        3 => rng
            .pick(&["Dockerfile", ".dockerignore", "*/x.txt", "*/*/*"])
            .into(),
        _ if !files.is_empty() => {
            // A path of the tree, or one of its parents, maybe with a wildcard in it.
            let f = &files[rng.below(files.len())];
            let parts: Vec<&str> = f.split('/').collect();
            let mut take = parts[..1 + rng.below(parts.len())].to_vec();
            let starred;
            if rng.below(4) == 0 {
                let i = rng.below(take.len());
                starred = format!("{}*", &take[i][..take[i].len().min(1)]);
                take[i] = &starred;
            }
            take.join("/")
        }
        _ => "a".into(),
    };
    decorate(rng, p)
}

/// `!`, `./`, `/`, surrounding spaces, now and then.
fn decorate(rng: &mut Rng, mut p: String) -> String {
    match rng.below(8) {
        0 => p = format!("./{p}"),
        1 => p = format!("/{p}"),
        2 => p = format!("  {p}  "),
        _ => {}
    }
    if rng.below(3) == 0 {
        p = format!("!{p}");
    }
    p
}

/// A random `.dockerignore` for `files`.
pub fn dockerignore(rng: &mut Rng, files: &[String]) -> String {
    let mut ignore = String::new();
    for _ in 0..(1 + rng.below(5)) {
        match rng.below(10) {
            0 => ignore.push_str("# a comment\n"),
            1 => ignore.push('\n'),
            _ => {
                ignore.push_str(&pattern(rng, files));
                ignore.push('\n');
            }
        }
    }
    ignore
}

/// The case of `seed`: a random tree (made in a scratch directory to learn its files) and
/// a random `.dockerignore`.
pub fn random_case(seed: u64) -> Case {
    let mut rng = Rng::seeded(seed);
    let scratch = std::env::temp_dir().join(format!(
        "dk-sees-gen-{}-{seed}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut files = Vec::new();
    tree(&mut rng, &scratch, 0, "", &mut files);
    empty_dirs(&scratch, "", &mut files);
    let _ = std::fs::remove_dir_all(&scratch);
    let ignore = dockerignore(&mut rng, &files);
    Case {
        origin: format!("seed {seed}"),
        files,
        dockerignore: ignore,
    }
}

/// The empty directories under `dir`, as `rel/` entries.
fn empty_dirs(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir.join(prefix)).unwrap() {
        let e = e.unwrap();
        if !e.file_type().unwrap().is_dir() {
            continue;
        }
        let rel = format!("{prefix}{}/", e.file_name().to_string_lossy());
        if std::fs::read_dir(dir.join(&rel)).unwrap().next().is_none() {
            out.push(rel);
        } else {
            empty_dirs(dir, &rel, out);
        }
    }
}

/// A tree for a real `.dockerignore`: for every pattern, a path it names (wildcards
/// replaced by plain names) as a file and as a directory with a file in it, plus what most
/// projects have.
pub fn tree_for(dockerignore: &str) -> Vec<String> {
    let mut out: BTreeSet<String> = [
        "README.md",
        "src/main.rs",
        "src/lib/util.js",
        "node_modules/pkg/index.js",
        ".git/HEAD",
        ".env",
        "docs/a.md",
        "build/out.bin",
        "app.py",
        "package.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for line in dockerignore.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let l = l.trim_start_matches('!').trim();
        let l = l.trim_start_matches("./").trim_start_matches('/');
        let mut parts = Vec::new();
        for part in l.split('/').filter(|p| !p.is_empty() && *p != ".") {
            if part == "**" {
                parts.push("deep".to_string());
                continue;
            }
            let mut name = String::new();
            let mut chars = part.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '*' => name.push('x'),
                    '?' => name.push('q'),
                    '[' => {
                        let mut class = String::new();
                        for c in chars.by_ref() {
                            if c == ']' {
                                break;
                            }
                            class.push(c);
                        }
                        let class = class.trim_start_matches(['!', '^']);
                        name.push(class.chars().find(|c| c.is_alphanumeric()).unwrap_or('z'));
                    }
                    '\\' => {
                        if let Some(n) = chars.next() {
                            name.push(n);
                        }
                    }
                    c => name.push(c),
                }
            }
            if name.is_empty() || name == ".." {
                name = "x".into();
            }
            parts.push(name);
        }
        if parts.is_empty() {
            continue;
        }
        let path = parts.join("/");
        out.insert(path.clone());
        out.insert(format!("{path}/inner.txt"));
        out.insert(format!("sub/{path}"));
    }
    // A path cannot be a file and a directory: keep the directory.
    let all: Vec<String> = out.iter().cloned().collect();
    all.iter()
        .filter(|p| !all.iter().any(|q| q.starts_with(&format!("{p}/"))))
        .filter(|p| {
            let first = p.split('/').next().unwrap_or("");
            first != "Dockerfile" && first != ".dockerignore"
        })
        .take(80)
        .cloned()
        .collect()
}

/// The case of a real `.dockerignore` (its text and the tree made for it).
pub fn corpus_case(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    Case {
        origin: path.display().to_string(),
        files: tree_for(&text),
        dockerignore: text,
    }
}

/// Every real `.dockerignore` of the corpus (`tests/corpus/dockerignore/`).
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = crate::conformance_support::corpus().join("dockerignore");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/corpus/dockerignore")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// The Docker CLI that builds with BuildKit here: one with buildx, or one from before 23
/// (its own BuildKit client, with the fsutil of its day).
pub fn buildkit_cli() -> Result<PathBuf, String> {
    for cli in ["/usr/bin/docker", "docker"] {
        let version = Command::new(cli)
            .args(["version", "--format", "{{.Client.Version}}"])
            .output();
        let Ok(v) = version else { continue };
        let v = String::from_utf8_lossy(&v.stdout).trim().to_string();
        let major: u32 = v
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0);
        let buildx = Command::new(cli)
            .args(["buildx", "version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if (major > 0 && major < 23) || buildx {
            return Ok(PathBuf::from(cli));
        }
    }
    Err("no Docker CLI here builds with BuildKit: install Debian's docker.io (its CLI has BuildKit built in: `apt-get install -y docker.io`) or the buildx plugin".into())
}

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker").args(args).output().unwrap()
}

/// The paths under `ctx/` of each image in `refs` (directories end in `/`), from one
/// `docker save`.
fn image_paths(refs: &[String]) -> Result<Vec<BTreeSet<String>>, String> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let out = Command::new("docker")
        .arg("save")
        .args(refs)
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "docker save: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // `docker save` stores a layer two images share once and links the other's to it.
    let mut links: Vec<(String, String)> = Vec::new();
    let mut outer = tar::Archive::new(&out.stdout[..]);
    for e in outer.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().to_string();
        if e.header().entry_type().is_symlink() {
            let target = e.link_name().unwrap().unwrap_or_default();
            let dir = Path::new(&name).parent().unwrap_or(Path::new(""));
            let resolved = dir.join(target.as_ref());
            let mut parts: Vec<String> = Vec::new();
            for c in resolved.components() {
                match c {
                    std::path::Component::ParentDir => {
                        parts.pop();
                    }
                    std::path::Component::Normal(p) => parts.push(p.to_string_lossy().into()),
                    _ => {}
                }
            }
            links.push((name, parts.join("/")));
            continue;
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        entries.insert(name, data);
    }
    for (name, target) in links {
        let data = entries.get(&target).cloned().unwrap_or_default();
        entries.insert(name, data);
    }
    let manifest: Vec<serde_json::Value> =
        serde_json::from_slice(entries.get("manifest.json").ok_or("no manifest.json")?)
            .map_err(|e| e.to_string())?;
    let mut by_tag: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for image in &manifest {
        let mut paths = BTreeSet::new();
        for layer in image["Layers"].as_array().into_iter().flatten() {
            let layer = entries
                .get(layer.as_str().unwrap_or(""))
                .ok_or("a layer is missing")?;
            let mut a = tar::Archive::new(&layer[..]);
            for e in a.entries().unwrap() {
                let e = e.unwrap();
                let p = e.path().unwrap().to_string_lossy().to_string();
                let Some(rel) = p.strip_prefix("ctx/") else {
                    continue;
                };
                let rel = rel.trim_end_matches('/');
                if rel.is_empty() {
                    continue;
                }
                paths.insert(if e.header().entry_type().is_dir() {
                    format!("{rel}/")
                } else {
                    rel.to_string()
                });
            }
        }
        for tag in image["RepoTags"].as_array().into_iter().flatten() {
            by_tag.insert(tag.as_str().unwrap_or("").to_string(), paths.clone());
        }
    }
    refs.iter()
        .map(|r| {
            by_tag
                .get(r)
                .cloned()
                .ok_or_else(|| format!("{r} is not in the saved images"))
        })
        .collect()
}

/// What came out of a batch.
#[derive(Debug, Default)]
pub struct Outcome {
    pub cases: usize,
    /// dk's build saw something else than today's CLI (with that builder): a dk bug.
    pub classic: Vec<String>,
    pub buildkit: Vec<String>,
    /// The BuildKit CLI here (its own fsutil) saw something else than today's CLI where dk's
    /// BuildKit build agrees with today's CLI: a difference of the older reference.
    pub reference_only: Vec<String>,
}

/// A workspace of one node per case under `root`, built by dk with `builder`.
fn dk_workspace(root: &Path, ns: &str, builder: Builder, cases: &[Case]) {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root.join("baseline")).unwrap();
    std::fs::write(
        root.join("dk.toml"),
        format!(
            "namespace = \"{ns}\"\n[build]\nbuilder = \"{}\"\n",
            builder.name()
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("baseline/Dockerfile"),
        "FROM scratch\nUSER 1000\n",
    )
    .unwrap();
    for (k, case) in cases.iter().enumerate() {
        let dir = root.join(format!("containers/c{k}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in &case.files {
            let p = dir.join(f);
            if f.ends_with('/') {
                std::fs::create_dir_all(&p).unwrap();
                continue;
            }
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, f.as_bytes()).unwrap();
        }
        std::fs::write(dir.join("Dockerfile"), "FROM scratch\nCOPY . /ctx/\n").unwrap();
        std::fs::write(dir.join(".dockerignore"), &case.dockerignore).unwrap();
    }
}

/// The images of namespace `ns` (`repo:tag`).
fn images_of(ns: &str) -> BTreeSet<String> {
    let listed = docker(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        &format!("reference={ns}*"),
        "--filter",
        &format!("reference={ns}*/*"),
    ]);
    String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| !l.contains("<none>"))
        .map(String::from)
        .collect()
}

/// Build `cases` with dk (classic and BuildKit) and with the reference CLIs (today's CLI
/// with the classic builder; the BuildKit CLI here), and compare what each build saw.
/// `ns` names everything made; all of it is removed before returning.
pub fn compare(dk: &Path, cases: &[Case], ns: &str) -> Outcome {
    let bk_cli = buildkit_cli().unwrap_or_else(|e| panic!("{e}"));
    let root = std::env::temp_dir().join(format!("dk-sees-{ns}"));
    let _ = std::fs::remove_dir_all(&root);
    let mut out = Outcome {
        cases: cases.len(),
        ..Default::default()
    };
    let describe = |k: usize| {
        format!(
            "{}:\nfiles: {:?}\n.dockerignore:\n{}",
            cases[k].origin, cases[k].files, cases[k].dockerignore
        )
    };
    // The reference builds, from the classic workspace's node directories.
    let ws = |b: Builder| root.join(b.name());
    dk_workspace(
        &ws(Builder::Classic),
        &format!("{ns}classic"),
        Builder::Classic,
        cases,
    );
    dk_workspace(
        &ws(Builder::BuildKit),
        &format!("{ns}buildkit"),
        Builder::BuildKit,
        cases,
    );
    let mut built = Vec::new();
    for (k, _) in cases.iter().enumerate() {
        let dir = ws(Builder::Classic).join(format!("containers/c{k}"));
        // No cache: a classic build may otherwise reuse an image another batch is
        // removing at that moment.
        let build = |cli: &Path, tag: &str, buildkit: &str| {
            Command::new(cli)
                .args([
                    "build",
                    "-q",
                    "--no-cache",
                    "--label",
                    "dk.test=buildsees",
                    "-t",
                    tag,
                    ".",
                ])
                .current_dir(&dir)
                .env("DOCKER_BUILDKIT", buildkit)
                .output()
                .unwrap()
        };
        let classic = build(Path::new("docker"), &format!("{ns}cli-classic:c{k}"), "0");
        let kit = build(&bk_cli, &format!("{ns}cli-buildkit:c{k}"), "1");
        if classic.status.success() && kit.status.success() {
            built.push(k);
            continue;
        }
        // A .dockerignore the CLI refuses (a syntax error): dk must refuse it too, at load
        // time, so it is checked in a workspace of its own.
        let alone = root.join(format!("refused-c{k}"));
        dk_workspace(
            &alone,
            &format!("{ns}r{k}"),
            Builder::Classic,
            &cases[k..=k],
        );
        let plan = Command::new(dk)
            .arg("-C")
            .arg(&alone)
            .arg("plan")
            .env("DOCKER_HOST", "unix:///nonexistent/dk-sees.sock")
            .output()
            .unwrap();
        if plan.status.code() != Some(2) {
            out.classic.push(format!(
                "{}\nthe CLI refused ({}); dk did not",
                describe(k),
                String::from_utf8_lossy(&classic.stderr).trim()
            ));
        }
        // Keep the batch buildable: the node goes.
        for b in [Builder::Classic, Builder::BuildKit] {
            let _ = std::fs::remove_dir_all(ws(b).join(format!("containers/c{k}")));
        }
    }
    let mut dk_said = String::new();
    for b in [Builder::Classic, Builder::BuildKit] {
        let mut run = Command::new(dk);
        run.arg("-C").arg(ws(b)).arg("build");
        if b == Builder::Classic {
            run.arg("--force");
        }
        let run = run.output().unwrap();
        dk_said.push_str(&String::from_utf8_lossy(&run.stderr));
        dk_said.push_str(&String::from_utf8_lossy(&run.stdout));
    }
    let have = images_of(ns);
    let tag = |k: usize, what: &str| match what {
        "cli-classic" | "cli-buildkit" => format!("{ns}{what}:c{k}"),
        dk_builder => format!("{ns}{dk_builder}/c{k}:latest"),
    };
    let kinds = ["cli-classic", "cli-buildkit", "classic", "buildkit"];
    let complete: Vec<usize> = built
        .iter()
        .copied()
        .filter(|&k| {
            let missing: Vec<&str> = kinds
                .iter()
                .copied()
                .filter(|w| !have.contains(&tag(k, w)))
                .collect();
            if !missing.is_empty() {
                out.classic.push(format!(
                    "{}\nnot built: {missing:?}\ndk said:\n{dk_said}",
                    describe(k)
                ));
            }
            missing.is_empty()
        })
        .collect();
    let mut paths: BTreeMap<&str, Vec<BTreeSet<String>>> = BTreeMap::new();
    for w in kinds {
        let refs: Vec<String> = complete.iter().map(|&k| tag(k, w)).collect();
        match image_paths(&refs) {
            Ok(p) => {
                paths.insert(w, p);
            }
            Err(e) => out.classic.push(format!("reading the {w} images: {e}")),
        }
    }
    let diff = |a: &BTreeSet<String>, b: &BTreeSet<String>, an: &str, bn: &str| {
        format!(
            "only {an} saw: {:?}\nonly {bn} saw: {:?}",
            a.difference(b).collect::<Vec<_>>(),
            b.difference(a).collect::<Vec<_>>()
        )
    };
    if paths.len() == kinds.len() {
        for (j, &k) in complete.iter().enumerate() {
            let today = &paths["cli-classic"][j];
            let (dkc, dkb, kit) = (
                &paths["classic"][j],
                &paths["buildkit"][j],
                &paths["cli-buildkit"][j],
            );
            if dkc != today {
                out.classic.push(format!(
                    "{} (classic)\n{}",
                    describe(k),
                    diff(today, dkc, "the CLI's build", "dk's build")
                ));
            }
            if dkb != today {
                out.buildkit.push(format!(
                    "{} (BuildKit)\n{}",
                    describe(k),
                    diff(today, dkb, "the CLI's classic build", "dk's BuildKit build")
                ));
            } else if kit != today {
                out.reference_only.push(format!(
                    "{}\n{}",
                    describe(k),
                    diff(today, kit, "today's CLI", "the BuildKit CLI here")
                ));
            }
        }
    }
    // Remove every image made.
    let remove: Vec<String> = images_of(ns).into_iter().collect();
    for chunk in remove.chunks(100) {
        let mut args = vec!["rmi", "-f"];
        args.extend(chunk.iter().map(String::as_str));
        let _ = docker(&args);
    }
    let _ = std::fs::remove_dir_all(&root);
    out
}
