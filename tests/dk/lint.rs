//! `dk lint`: every rule has a failing and a passing fixture, with exact lines.

use std::collections::HashMap;

use crate::common::{TestWs, stderr, stdout};

const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

/// Findings of node `x` for a Dockerfile and manifest: (rule, path, line) of unwaived ones.
fn lint(dockerfile: &str, manifest: &str) -> Vec<(String, String, usize)> {
    let ws = TestWs::empty();
    ws.write(
        "baseline/Dockerfile",
        "FROM scratch\nCOPY busybox /bin/busybox\nUSER 1000\n",
    );
    ws.container("x", dockerfile);
    if !manifest.is_empty() {
        ws.write("containers/x/container.toml", manifest);
    }
    lint_ws(&ws)
}

/// The open findings of node `x` (Hadolint's and dk's rules; ShellCheck's are not run).
fn lint_ws(ws: &TestWs) -> Vec<(String, String, usize)> {
    let engine = ws.engine();
    let mut linter = dk::lint::Linter::new(&engine.ws, &engine.graph, HashMap::new());
    let i = engine.ws.nodes.iter().position(|n| n.name == "x").unwrap();
    linter
        .lint(i)
        .into_iter()
        .filter(|f| f.waived.is_none())
        .map(|f| (f.rule, f.path, f.line))
        .collect()
}

fn df(rule: &str, line: usize) -> (String, String, usize) {
    (
        rule.to_string(),
        "containers/x/Dockerfile".to_string(),
        line,
    )
}

fn mf(rule: &str, line: usize) -> (String, String, usize) {
    (
        rule.to_string(),
        "containers/x/container.toml".to_string(),
        line,
    )
}

#[test]
fn pinning_rules() {
    assert_eq!(
        lint("# base\nFROM alpine\nUSER 1000\n", ""),
        [df("DL3006", 2)]
    );
    assert_eq!(
        lint("FROM alpine:latest\nUSER 1000\n", ""),
        [df("DL3007", 1)]
    );
    assert_eq!(
        lint("FROM debian:stable\nUSER 1000\n", ""),
        [df("DK-PIN", 1)]
    );
    assert_eq!(
        lint("FROM alpine:3.20\nUSER 1000\n", ""),
        [df("DK-DIGEST", 1)]
    );
    assert_eq!(
        lint(&format!("FROM alpine:3.20@{DIGEST}\nUSER 1000\n"), ""),
        []
    );
    assert_eq!(
        lint("FROM baseline\n", ""),
        [],
        "a node parent is pinned by id"
    );
    // COPY --from an external image is judged too, under dk's own id (Hadolint's DL3007
    // is about FROM lines only); so is an ARG-expanded FROM, which Hadolint cannot see.
    assert_eq!(
        lint(
            "FROM baseline\nCOPY --from=busybox:latest /bin/sh /sh\n",
            ""
        ),
        [df("DK-LATEST", 2)]
    );
    assert_eq!(
        lint("ARG BASE=alpine:latest\nFROM ${BASE}\nUSER 1000\n", ""),
        [df("DK-LATEST", 2)]
    );
    assert_eq!(
        lint("ARG BASE=alpine\nFROM $BASE\nUSER 1000\n", ""),
        [df("DK-NOTAG", 2)]
    );
}

#[test]
fn root_user_rule_knows_the_parents_user() {
    assert_eq!(
        lint("FROM baseline\nRUN true\n", ""),
        [],
        "inherits USER 1000 from baseline"
    );
    assert_eq!(
        lint("FROM baseline\nUSER root\nRUN true\n", ""),
        [df("DL3002", 2)]
    );
    assert_eq!(lint("FROM baseline\nUSER 0\nRUN x\nUSER 1000\n", ""), []);
    assert_eq!(
        lint("FROM scratch\nCOPY a /a\n", ""),
        [df("DK-ROOT", 1)],
        "scratch runs as root: dk's DK-ROOT (Hadolint only reads USER lines)"
    );
    // Allowed by the manifest, with its reason: reported as waived, not as a finding.
    assert_eq!(
        lint(
            "FROM baseline\nUSER root\n",
            "[run]\nallow_root = \"binds port 53\"\n"
        ),
        []
    );
}

#[test]
fn add_of_a_local_file() {
    assert_eq!(
        lint("FROM baseline\nADD app.conf /etc/app.conf\n", ""),
        [df("DL3020", 2)]
    );
    assert_eq!(
        lint(
            "FROM baseline\nADD rootfs.tar.gz /\nCOPY app.conf /etc/\n",
            ""
        ),
        []
    );
    assert_eq!(
        lint("FROM baseline\nADD --chown=1:1 [\"a b.txt\", \"/x\"]\n", ""),
        [df("DL3020", 2)]
    );
}

#[test]
fn package_caches() {
    assert_eq!(
        lint(
            "FROM baseline\nUSER 0\nRUN apt-get update \\\n  && apt-get install -y --no-install-recommends curl=7.88.1-10\nUSER 1000\n",
            ""
        ),
        [df("DL3009", 3)]
    );
    assert_eq!(
        lint(
            "FROM baseline\nUSER 0\nRUN apt-get install -y curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\nUSER 1000\n",
            ""
        ),
        [df("DL3015", 3)]
    );
    assert_eq!(
        lint(
            "FROM baseline\nUSER 0\nRUN apt-get install -y --no-install-recommends curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\nUSER 1000\n",
            ""
        ),
        []
    );
    assert_eq!(
        lint("FROM baseline\nRUN apk add curl=8.5.0-r0\n", ""),
        [df("DL3019", 2)]
    );
    assert_eq!(
        lint("FROM baseline\nRUN apk add --no-cache curl=8.5.0-r0\n", ""),
        []
    );
    assert_eq!(
        lint("FROM baseline\nRUN pip3 install requests==2.31.0\n", ""),
        [df("DL3042", 2)]
    );
    assert_eq!(
        lint(
            "FROM baseline\nRUN pip install --no-cache-dir requests==2.31.0\n",
            ""
        ),
        []
    );
}

#[test]
fn shell_form_cmd_and_entrypoint() {
    assert_eq!(
        lint("FROM baseline\nENTRYPOINT /bin/app --serve\nCMD -v\n", ""),
        [df("DL3025", 2), df("DL3025", 3)]
    );
    assert_eq!(
        lint(
            "FROM baseline\nENTRYPOINT [\"/bin/app\", \"--serve\"]\nCMD [\"-v\"]\n",
            ""
        ),
        []
    );
}

#[test]
fn secrets_in_env_and_arg() {
    assert_eq!(
        lint("FROM baseline\nENV DB_HOST=db DB_PASSWORD=hunter2\n", ""),
        [df("DL3064", 2)]
    );
    assert_eq!(
        lint("FROM baseline\nARG API_TOKEN\n", ""),
        [df("DL3064", 2)]
    );
    assert_eq!(
        lint("FROM baseline\nENV DB_HOST=db\nARG VERSION=1\n", ""),
        []
    );
}

#[test]
fn manifest_ports_mounts_and_stop_signal_must_be_in_the_image() {
    let manifest = "[run]\nports = [\"8080:80\"]\nstop_signal = \"SIGUSR1\"\n\n[[mount]]\nkind = \"persistent\"\nsource = \"data\"\ntarget = \"/data\"\n";
    assert_eq!(
        lint("FROM baseline\nCMD [\"app\"]\n", manifest),
        [
            mf("DK-EXPOSE", 2),
            mf("DK-STOPSIGNAL", 3),
            mf("DK-VOLUME", 5)
        ]
    );
    assert_eq!(
        lint(
            "FROM baseline\nEXPOSE 80/tcp\nVOLUME [\"/data\"]\nSTOPSIGNAL SIGUSR1\nCMD [\"app\"]\n",
            manifest
        ),
        []
    );
    // Inherited from a node parent counts.
    let ws_manifest = "[[test.check]]\nhttp = \"/\"\nport = 8080\n";
    assert_eq!(
        lint("FROM baseline\nCMD [\"app\"]\n", ws_manifest),
        [mf("DK-EXPOSE", 1)]
    );
}

#[test]
fn stages_as_hadolint_judges_them_and_the_user_of_the_final_image() {
    // Package rules and the shell form apply in every stage, as Hadolint has them.
    let dockerfile = format!(
        "FROM alpine:3.20@{DIGEST} AS build\nUSER root\nRUN apk add gcc\nCMD make\nFROM baseline\nCOPY --from=build /out /out\nCMD [\"/out\"]\n"
    );
    assert_eq!(
        lint(&dockerfile, ""),
        [
            df("DL3002", 2),
            df("DL3018", 3),
            df("DL3019", 3),
            df("DL3025", 4)
        ],
        "Hadolint's DL3002 judges the last USER of every stage"
    );
    let dockerfile = "FROM alpine:latest AS build\nRUN apk add --no-cache gcc=13.2.1-r0\nFROM baseline\nCOPY --from=build /out /out\n";
    assert_eq!(
        lint(dockerfile, ""),
        [df("DL3007", 1)],
        "pinning matters in every stage"
    );
    let dockerfile = "FROM baseline AS base\nUSER 0\nFROM base\nRUN true\n";
    assert_eq!(
        lint(dockerfile, ""),
        [df("DL3002", 2)],
        "the USER 0 line is Hadolint's DL3002; the final stage inheriting it needs no second finding"
    );
    // Hadolint's inline ignore comments are honoured.
    let dockerfile = "FROM baseline\n# hadolint ignore=DL3018,DL3019\nRUN apk add gcc\n";
    assert_eq!(lint(dockerfile, ""), []);
}

fn ws_with(dockerfile: &str, manifest: &str) -> TestWs {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\nUSER 1000\n");
    ws.container("x", dockerfile);
    if !manifest.is_empty() {
        ws.write("containers/x/container.toml", manifest);
    }
    ws
}

#[test]
fn cli_prints_compiler_style_and_exits_1_on_findings() {
    let ws = ws_with("FROM baseline\nCMD app\n", "");
    let out = ws.dk().args(["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with("containers/x/Dockerfile:2: DL3025 CMD in shell form"),
        "{text}"
    );
    assert!(text.contains("  help: use the exec form"), "{text}");
    assert!(stderr(&out).contains("1 finding(s)"), "{}", stderr(&out));

    let clean = ws_with("FROM baseline\nCMD [\"app\"]\n", "");
    let out = clean.dk().args(["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn waivers_are_listed_and_need_a_reason() {
    let ws = ws_with(
        "FROM baseline\nCMD app\n",
        "[[lint.waive]]\nrule = \"DL3025\"\nreason = \"the app handles SIGTERM through its shell wrapper\"\n",
    );
    let out = ws.dk().args(["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("waived:\n  containers/x/Dockerfile:2: DL3025"),
        "{text}"
    );
    assert!(text.contains("reason: the app handles SIGTERM"), "{text}");

    let ws = ws_with(
        "FROM baseline\nCMD app\n",
        "[[lint.waive]]\nrule = \"DL3025\"\n",
    );
    let out = ws.dk().args(["lint"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("containers/x/container.toml:1:1: lint.waive for `DL3025` has no reason"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_and_sarif_formats() {
    let ws = ws_with("FROM baseline\nADD a.txt /a\n", "");
    let out = ws.dk().args(["lint", "--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["rule"], "DL3020");
    assert_eq!(v[0]["line"], 2);
    let out = ws
        .dk()
        .args(["lint", "--format", "sarif"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "DL3020");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "containers/x/Dockerfile"
    );
}

#[test]
fn the_example_workspace_lints_clean() {
    let out = crate::common::dk_bare()
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg("lint")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn shellcheck_checks_run_lines_and_its_absence_is_said_once() {
    let ws = ws_with(
        "FROM baseline\nARG VERSION\nRUN echo $VERSION $UNQUOTED && echo `date`\nRUN [\"echo\", \"exec form is not checked\"]\n",
        "",
    );
    let out = ws.dk().args(["lint", "--format", "json"]).output().unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let sc: Vec<(String, u64)> = findings
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with("SC"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(sc.contains(&("SC2086".into(), 3)), "{sc:?}");
    assert!(sc.contains(&("SC2006".into(), 3)), "{sc:?}");
    assert!(sc.iter().all(|(_, l)| *l == 3), "{sc:?}");
    // ARG names count as set: no SC2154-style complaint about VERSION.
    assert!(!sc.iter().any(|(r, _)| r == "SC2154"), "{sc:?}");
    // Without shellcheck, dk says so once, and the rest of the lint still runs.
    let out = ws
        .dk()
        .args(["lint"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(
        err.matches("shellcheck is not installed").count(),
        1,
        "{err}"
    );
    assert!(!stdout(&out).contains("SC2086"));
}

#[test]
fn fix_makes_the_mechanical_fixes_or_writes_nothing() {
    let text = "FROM baseline\nADD app.conf /etc/\nRUN apk add --virtual .deps curl=8.5.0-r0\nCMD app --serve\n";
    let ws = ws_with(text, "");
    let file = ws.path("containers/x/Dockerfile");
    let out = ws
        .dk()
        .args(["lint", "--fix", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "--- a/containers/x/Dockerfile\n+++ b/containers/x/Dockerfile\n@@ -1,4 +1,4 @@\n FROM baseline\n-ADD app.conf /etc/\n-RUN apk add --virtual .deps curl=8.5.0-r0\n-CMD app --serve\n+COPY app.conf /etc/\n+RUN apk add --no-cache --virtual .deps curl=8.5.0-r0\n+CMD [\"app\", \"--serve\"]\n"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "a dry run writes nothing"
    );
    let out = ws.dk().args(["lint", "--fix"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("containers/x/Dockerfile:2: DL3020 fixed"),
        "{}",
        stdout(&out)
    );
    let rules: Vec<String> = lint_ws(&ws).into_iter().map(|f| f.0).collect();
    for fixed in ["DL3019", "DL3020", "DL3025"] {
        assert!(!rules.contains(&fixed.to_string()), "{rules:?}");
    }
    // One fix that cannot be made: nothing is written at all.
    let text = "FROM baseline\nADD app.conf /etc/\nCMD echo $HOME\n";
    let ws = ws_with(text, "");
    let out = ws.dk().args(["lint", "--fix"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("containers/x/Dockerfile:3: DL3025 cannot be fixed mechanically"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("containers/x/Dockerfile")).unwrap(),
        text
    );
}
