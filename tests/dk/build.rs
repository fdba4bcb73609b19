//! The build engine against the real daemon: exact rebuilds, no-op skips, plan reasons,
//! failures, staging, labels, daemon errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::common::{RecordingProxy, TestWs, docker, rt, stderr, stdout};
use dk::build::{BuildSummary, NodeStatus};
use dk::engine::{Engine, RunOptions};
use dk::report::{Event, Silent};
use dk::workspace::LoadOptions;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn opts() -> RunOptions {
    RunOptions::new(2)
}

/// The image id a build summary reports for `name` (built or fresh).
fn image_of(s: &BuildSummary, name: &str) -> Option<String> {
    s.nodes
        .iter()
        .find(|n| n.name == name)
        .and_then(|n| match &n.status {
            NodeStatus::Fresh { image_id } | NodeStatus::Built { image_id } => {
                Some(image_id.to_string())
            }
            _ => None,
        })
}

fn build(ws: &TestWs, names: &[&str]) -> BuildSummary {
    let engine = ws.engine();
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let lock = engine.lock("dk build (test)", true).unwrap();
    rt().block_on(engine.build(&lock, &names, &opts()))
        .unwrap_or_else(|e| panic!("{}", e.render()))
}

fn statuses(s: &BuildSummary) -> BTreeMap<String, &'static str> {
    s.nodes
        .iter()
        .map(|n| {
            let st = match n.status {
                NodeStatus::Fresh { .. } => "fresh",
                NodeStatus::Built { .. } => "built",
                NodeStatus::Taken { .. } => "taken",
                NodeStatus::Failed { .. } => "failed",
                NodeStatus::Blocked { .. } => "blocked",
                NodeStatus::Cancelled => "cancelled",
            };
            (n.name.clone(), st)
        })
        .collect()
}

fn expect(s: &BuildSummary, want: &[(&str, &str)]) {
    let got = statuses(s);
    let want: BTreeMap<String, &str> = want.iter().map(|(a, b)| (a.to_string(), *b)).collect();
    assert_eq!(got, want);
}

/// baseline <- a <- b, baseline <- c
fn chain() -> TestWs {
    let ws = TestWs::with_baseline();
    ws.container("a", "FROM baseline\nCOPY a.txt /a.txt\n");
    ws.write("containers/a/a.txt", "one\n");
    ws.container("b", "FROM a\nRUN cat /a.txt > /b.txt\n");
    ws.container("c", "FROM baseline\nCOPY c.txt /c.txt\n");
    ws.write("containers/c/c.txt", "c\n");
    ws
}

#[test]
fn a_change_rebuilds_exactly_the_node_and_its_dependents() {
    let ws = chain();
    let first = build(&ws, &[]);
    expect(
        &first,
        &[
            ("baseline", "built"),
            ("a", "built"),
            ("b", "built"),
            ("c", "built"),
        ],
    );
    let again = build(&ws, &[]);
    expect(
        &again,
        &[
            ("baseline", "fresh"),
            ("a", "fresh"),
            ("b", "fresh"),
            ("c", "fresh"),
        ],
    );

    ws.write("containers/a/a.txt", "two\n");
    let after = build(&ws, &[]);
    expect(
        &after,
        &[
            ("baseline", "fresh"),
            ("a", "built"),
            ("b", "built"),
            ("c", "fresh"),
        ],
    );
    assert_ne!(image_of(&first, "b"), image_of(&after, "b"));
    assert_eq!(image_of(&first, "c"), image_of(&after, "c"));
    // The child was built on the parent's new id.
    let out = docker(&[
        "run",
        "--rm",
        "--label",
        "dk.test=1",
        &ws.image("b", "latest"),
        "cat",
        "/b.txt",
    ]);
    assert_eq!(stdout(&out), "two\n");
}

#[test]
fn touch_without_change_rebuilds_nothing_and_content_change_does() {
    let ws = chain();
    build(&ws, &[]);
    let path = ws.path("containers/c/c.txt");
    let future = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(future)
        .unwrap();
    // Rewrite with the same bytes too (new inode times, same content).
    std::fs::write(&path, "c\n").unwrap();
    expect(
        &build(&ws, &[]),
        &[
            ("baseline", "fresh"),
            ("a", "fresh"),
            ("b", "fresh"),
            ("c", "fresh"),
        ],
    );
    std::fs::write(&path, "C\n").unwrap();
    expect(
        &build(&ws, &["c"]),
        &[("baseline", "fresh"), ("c", "built")],
    );
}

#[test]
fn mode_change_is_a_change() {
    let ws = chain();
    build(&ws, &["c"]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        ws.path("containers/c/c.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    expect(
        &build(&ws, &["c"]),
        &[("baseline", "fresh"), ("c", "built")],
    );
}

#[test]
fn a_deleted_image_is_rebuilt() {
    let ws = chain();
    build(&ws, &[]);
    let out = docker(&["rmi", "-f", &ws.image("c", "latest")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let engine = ws.engine();
    let plan = rt().block_on(engine.plan(&["c".into()])).unwrap();
    let c = plan.iter().find(|p| p.name == "c").unwrap();
    assert!(
        c.reasons.iter().any(|r| r.contains("gone from the daemon")),
        "{:?}",
        c.reasons
    );
    expect(
        &build(&ws, &[]),
        &[
            ("baseline", "fresh"),
            ("a", "fresh"),
            ("b", "fresh"),
            ("c", "built"),
        ],
    );
}

#[test]
fn a_checkout_without_records_takes_the_images_built_from_its_inputs_and_builds_the_rest() {
    let ws = chain();
    let first = build(&ws, &[]);
    // Another checkout of this workspace: the same files elsewhere (dk.toml with the id the
    // first build wrote), nothing in `.dk/`; one file differs. The images built from
    // identical inputs are taken, not built.
    let toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    assert!(
        toml.starts_with(&format!("id = \"{}\"\n", ws.id())),
        "{toml}"
    );
    let other = TestWs::empty();
    for dir in ["dk.toml", "baseline", "containers"] {
        let out = std::process::Command::new("cp")
            .args(["-a", "--"])
            .arg(ws.path(dir))
            .arg(other.root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    other.write("containers/c/c.txt", "c, changed\n");
    // `dk plan` says what `dk build` will do.
    let plan = rt().block_on(other.engine().plan(&[])).unwrap();
    let actions: BTreeMap<String, String> = plan
        .iter()
        .map(|p| (p.name.clone(), format!("{:?}", p.action)))
        .collect();
    assert_eq!(
        actions,
        [
            ("a", "Take"),
            ("b", "Take"),
            ("baseline", "Take"),
            ("c", "Build")
        ]
        .map(|(n, a)| (n.to_string(), a.to_string()))
        .into(),
        "{plan:?}"
    );
    let second = build(&other, &[]);
    expect(
        &second,
        &[
            ("baseline", "taken"),
            ("a", "taken"),
            ("b", "taken"),
            ("c", "built"),
        ],
    );
    for n in ["baseline", "a", "b"] {
        let i = first.nodes.iter().position(|r| r.name == n).unwrap();
        assert_eq!(
            first.image(first.nodes[i].node),
            second.image(second.nodes[i].node)
        );
    }
    // Taken images are recorded: the next build is a no-op.
    expect(
        &build(&other, &[]),
        &[
            ("baseline", "fresh"),
            ("a", "fresh"),
            ("b", "fresh"),
            ("c", "fresh"),
        ],
    );
}

#[test]
fn a_moved_latest_tag_is_put_back_without_a_build() {
    let ws = chain();
    let first = build(&ws, &[]);
    let a_id = image_of(&first, "a").unwrap();
    // Someone points c:latest elsewhere.
    let out = docker(&["tag", &a_id, &ws.image("c", "latest")]);
    assert!(out.status.success());
    let again = build(&ws, &["c"]);
    expect(&again, &[("baseline", "fresh"), ("c", "fresh")]);
    assert_eq!(ws.image_id(&ws.image("c", "latest")), image_of(&first, "c"));
}

#[test]
fn plan_says_why_each_node_is_stale() {
    let ws = chain();
    let out = ws.dk().args(["plan", "--json"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        plan[0]["reasons"].to_string().contains("never built"),
        "{plan}"
    );
    build(&ws, &[]);
    ws.write("containers/a/a.txt", "changed\n");
    ws.write("containers/a/new.txt", "new\n");
    ws.write(
        "containers/c/container.toml",
        "[build]\nargs = { FLAVOUR = \"x\" }\n",
    );
    let out = ws.dk().args(["plan", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let get = |n: &str| {
        plan.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(get("baseline")["action"], "fresh");
    let a = get("a");
    assert_eq!(a["action"], "build");
    let reasons = a["reasons"].to_string();
    assert!(
        reasons.contains("changed: a.txt") && reasons.contains("appeared: new.txt"),
        "{reasons}"
    );
    let b = get("b");
    assert!(
        b["reasons"]
            .to_string()
            .contains("parent a will be rebuilt"),
        "{b}"
    );
    let c = get("c");
    assert!(
        c["reasons"].to_string().contains("build arg FLAVOUR added"),
        "{c}"
    );
    // Plan touched nothing: the next build does exactly what it said.
    expect(
        &build(&ws, &[]),
        &[
            ("baseline", "fresh"),
            ("a", "built"),
            ("b", "built"),
            ("c", "built"),
        ],
    );
    std::fs::remove_file(ws.path("containers/a/new.txt")).unwrap();
    let out = ws.dk().args(["plan", "a"]).output().unwrap();
    assert!(
        stdout(&out).contains("disappeared: new.txt"),
        "{}",
        stdout(&out)
    );
}

/// A failed build under `builder` (None: the default, BuildKit): the failing step, its
/// output, the daemon's message, the full log; dependents blocked, others built.
fn a_failed_build_shows(builder: Option<&str>, step: &str, message: &str, logged: &str) {
    let ws = TestWs::with_baseline();
    if let Some(b) = builder {
        let toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
        ws.write("dk.toml", &format!("{toml}[build]\nbuilder = \"{b}\"\n"));
    }
    ws.container(
        "bad",
        "FROM baseline\nRUN echo first-line\nRUN echo boom-output-here && false\n",
    );
    ws.container("child", "FROM bad\n");
    ws.container("good", "FROM baseline\nRUN echo fine\n");
    let out = ws.dk().args(["build", "-j", "1"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("failed at {step}")), "{err}");
    assert!(err.contains("boom-output-here"), "{err}");
    assert!(err.contains(message), "{err}");
    let log_line = err
        .lines()
        .find(|l| l.contains("full log: "))
        .expect("log path");
    let log = log_line.split("full log: ").nth(1).unwrap().trim();
    let log_text = std::fs::read_to_string(ws.path(log)).unwrap();
    assert!(log_text.contains(logged), "{log_text}");
    assert!(err.contains("child: build blocked by bad"), "{err}");
    assert!(
        err.contains("2 built") && err.contains("1 failed") && err.contains("1 blocked"),
        "{err}"
    );
    assert!(ws.image_id(&ws.image("good", "latest")).is_some());
    assert!(ws.image_id(&ws.image("child", "latest")).is_none());
}

#[test]
fn a_failed_build_shows_the_step_and_output_and_blocks_only_its_dependents() {
    a_failed_build_shows(
        None,
        "[3/3] RUN echo boom-output-here && false",
        "exit code: 1",
        "RUN echo first-line",
    );
}

#[test]
fn a_failed_classic_build_shows_the_step_and_output_too() {
    a_failed_build_shows(
        Some("classic"),
        "Step 3/4 : RUN echo boom-output-here && false",
        "returned a non-zero code: 1",
        "Step 2/4 : RUN echo first-line",
    );
}

#[test]
fn fail_fast_cancels_what_has_not_finished() {
    let ws = TestWs::with_baseline();
    ws.container("bad", "FROM baseline\nRUN false\n");
    ws.container("good", "FROM baseline\nRUN echo fine\n");
    let out = ws
        .dk()
        .args(["build", "-j", "1", "--fail-fast"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("1 cancelled"), "{err}");
    assert!(ws.image_id(&ws.image("good", "latest")).is_none());
}

#[test]
fn independent_nodes_build_in_parallel() {
    let ws = TestWs::with_baseline();
    ws.container("one", "FROM baseline\nRUN sleep 2\n");
    ws.container("two", "FROM baseline\nRUN sleep 2 && echo two\n");
    build(&ws, &["baseline"]);
    let silent = Arc::new(Silent::default());
    let engine = Engine::load(ws.root(), &LoadOptions::default(), silent.clone()).unwrap();
    let lock = engine.lock("dk build (test)", true).unwrap();
    let s = rt().block_on(engine.build(&lock, &[], &opts())).unwrap();
    expect(
        &s,
        &[("baseline", "fresh"), ("one", "built"), ("two", "built")],
    );
    // Both started before either finished.
    let events = silent.events.lock().unwrap();
    let first_finish = events
        .iter()
        .position(|e| matches!(e, Event::Finish { node, .. } if node == "one" || node == "two"))
        .unwrap();
    let starts = events[..first_finish]
        .iter()
        .filter(|e| matches!(e, Event::Start { .. }))
        .count();
    assert_eq!(starts, 2, "{events:?}");
}

#[test]
fn a_missing_base_image_is_dk_s_own_clear_error() {
    let ws = TestWs::with_baseline();
    let missing = format!("{}-missing/base:1.0", ws.ns);
    ws.container("ext", &format!("# external\nFROM {missing}\n"));
    let out = ws.dk().args(["build", "ext"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("containers/ext/Dockerfile:2"), "{err}");
    assert!(
        err.contains(&format!(
            "base image `{missing}` is not in the local daemon"
        )),
        "{err}"
    );
}

/// The chain plus node `ext` built FROM an "external" image (a tag outside the workspace
/// namespace, made from the baseline). Returns the workspace and the external reference.
fn with_external_base() -> (TestWs, String) {
    let ws = chain();
    build(&ws, &["baseline"]);
    let ext = format!("{}-ext/base:1.0", ws.ns);
    let base_id = ws.image_id(&ws.image("baseline", "latest")).unwrap();
    assert!(docker(&["tag", &base_id, &ext]).status.success());
    ws.track_image(&ext);
    ws.container("ext", &format!("FROM {ext}\nRUN echo hi\n"));
    expect(&build(&ws, &["ext"]), &[("ext", "built")]);
    (ws, ext)
}

#[test]
fn an_external_base_is_pinned_to_its_local_id() {
    let (ws, ext) = with_external_base();
    expect(&build(&ws, &["ext"]), &[("ext", "fresh")]);
    // Re-point the external tag: the node is stale.
    let a_id = {
        build(&ws, &["a"]);
        ws.image_id(&ws.image("a", "latest")).unwrap()
    };
    assert!(docker(&["tag", &a_id, &ext]).status.success());
    let engine = ws.engine();
    let plan = rt().block_on(engine.plan(&["ext".into()])).unwrap();
    assert!(
        plan[0]
            .reasons
            .iter()
            .any(|r| r.contains("base image") && r.contains("changed")),
        "{:?}",
        plan[0].reasons
    );
    expect(&build(&ws, &["ext"]), &[("ext", "built")]);
}

#[test]
fn a_no_op_build_with_an_external_base_only_reads_and_never_negotiates() {
    let (ws, ext) = with_external_base();

    let proxy = RecordingProxy::start();
    let out = ws
        .dk()
        .env("DOCKER_HOST", proxy.host())
        .args(["build", "ext"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 fresh"), "{}", stderr(&out));
    let sent = proxy.sent();
    assert!(
        sent.contains(&format!("/images/{}", ext.replace('/', "%2F")))
            || sent.contains(&format!("/images/{ext}")),
        "the external base was looked up through the proxy:\n{sent}"
    );
    assert!(!sent.contains("/version"), "a no-op negotiated:\n{sent}");
    assert!(
        !sent.contains("POST "),
        "a no-op changed something:\n{sent}"
    );

    // A change needs the daemon's version check before it builds.
    ws.write("containers/ext/extra.txt", "x\n");
    let proxy = RecordingProxy::start();
    let out = ws
        .dk()
        .env("DOCKER_HOST", proxy.host())
        .args(["build", "ext"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(proxy.sent().contains("/version"));
}

#[test]
fn images_carry_hashed_labels_and_the_record_keeps_the_vcs_revision() {
    let ws = chain();
    // The manifest is not part of c's context: only its effect on the labels is.
    ws.write("containers/c/.dockerignore", "container.toml\n");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(ws.root())
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    git(&[
        "-c",
        "user.email=t@example.com",
        "-c",
        "user.name=t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    ]);
    let rev = stdout(&git(&["rev-parse", "HEAD"])).trim().to_string();
    build(&ws, &["c"]);
    let out = docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Labels}}",
        &ws.image("c", "latest"),
    ]);
    let labels: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(labels["dk.node"], "c");
    assert_eq!(labels["dk.path"], "containers/c");
    assert_eq!(labels["dk.role"], "build");
    assert_eq!(labels["dk.workspace"], ws.id());
    // The revision is not a label (a label is part of the image id: hashing the revision
    // would rebuild every node on every commit); the build record keeps it.
    assert!(
        labels.get("org.opencontainers.image.revision").is_none(),
        "{labels}"
    );
    let hash = labels["dk.input-hash"].as_str().unwrap();
    let rec: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.path(&format!(".dk/records/builds/c/{hash}.json")))
            .expect("a record for the label's hash"),
    )
    .unwrap();
    assert_eq!(
        rec["image_id"].as_str().map(String::from),
        ws.image_id(&ws.image("c", "latest"))
    );
    assert_eq!(rec["revision"], rev.as_str());

    // A new commit changes nothing that is sent: nothing is rebuilt.
    git(&[
        "-c",
        "user.email=t@example.com",
        "-c",
        "user.name=t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "y",
    ]);
    expect(
        &build(&ws, &["c"]),
        &[("baseline", "fresh"), ("c", "fresh")],
    );

    // A label that depends on the inputs is hashed: a new description rebuilds, and the
    // image carries it.
    ws.write(
        "containers/c/container.toml",
        "description = \"the c service\"\n",
    );
    expect(
        &build(&ws, &["c"]),
        &[("baseline", "fresh"), ("c", "built")],
    );
    let out = docker(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"org.opencontainers.image.description\"}}",
        &ws.image("c", "latest"),
    ]);
    assert_eq!(stdout(&out).trim(), "the c service");
    let engine = ws.engine();
    let plan = rt().block_on(engine.plan(&["c".into()])).unwrap();
    assert_eq!(plan[1].action, dk::plan::PlanAction::Fresh, "{:?}", plan[1]);
}

#[test]
fn json_output_is_one_event_per_line_and_a_summary() {
    let ws = chain();
    let out = ws.dk().args(["build", "--json", "c"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "start" && l["node"] == "c")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "line" && l["node"] == "c")
    );
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "summary");
    assert_eq!(last["summary"]["nodes"][1]["status"], "built");
}

#[test]
fn staging_copies_fetches_with_a_pin_and_cleans() {
    let ws = TestWs::with_baseline();
    ws.write("services/tool/tool.sh", "#!/bin/sh\necho tool\n");
    ws.container(
        "tool",
        "FROM baseline\nCOPY files/ /\nCMD [\"/usr/bin/tool\"]\n",
    );
    let payload = "artifact v1\n";
    let sha = {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(payload.as_bytes()))
    };
    ws.write(
        "containers/tool/container.toml",
        &format!(
            r#"
[[stage.copy]]
from = "services/tool/tool.sh"
to = "files/usr/bin/tool"
mode = "0755"

[[stage.fetch]]
command = ["sh", "-c", "cat \"$DK_WORKSPACE/upstream\" > pkg_1.0_amd64.deb"]
sha256 = "{sha}"
to = "files/opt/pkg.deb"
"#
        ),
    );
    ws.write("upstream", payload);
    let out = ws.dk().args(["build", "tool"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let run = docker(&[
        "run",
        "--rm",
        "--label",
        "dk.test=1",
        &ws.image("tool", "latest"),
    ]);
    assert_eq!(stdout(&run), "tool\n");

    // The verified copy is cached: the source may disappear.
    std::fs::remove_file(ws.path("upstream")).unwrap();
    std::fs::remove_file(ws.path("containers/tool/files/opt/pkg.deb")).unwrap();
    let out = ws.dk().args(["build", "tool"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("from the verified cache"),
        "{}",
        stderr(&out)
    );

    // Upstream moves on: the error names what is offered now and its checksum.
    std::fs::remove_dir_all(ws.path(".dk/cache/fetch")).unwrap();
    std::fs::remove_file(ws.path("containers/tool/files/opt/pkg.deb")).unwrap();
    ws.write("upstream", "artifact v2\n");
    ws.write(
        "containers/tool/container.toml",
        &std::fs::read_to_string(ws.path("containers/tool/container.toml"))
            .unwrap()
            .replace("pkg_1.0_amd64", "pkg_2.0_amd64"),
    );
    let out = ws.dk().args(["build", "tool"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let new_sha = {
        use sha2::Digest;
        hex(&sha2::Sha256::digest(b"artifact v2\n"))
    };
    assert!(
        err.contains("pkg_2.0_amd64.deb") && err.contains(&new_sha),
        "{err}"
    );
    assert!(err.contains(&format!("sha256 = \"{new_sha}\"")), "{err}");
    assert!(
        err.contains("containers/tool/container.toml: stage.fetch[0]"),
        "{err}"
    );

    // clean removes what staging generated, and the records.
    let out = ws.dk().args(["clean", "tool"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!ws.path("containers/tool/files/usr/bin/tool").exists());
    assert!(!ws.path(".dk/records/builds/tool").exists());
    assert!(
        ws.path("services/tool/tool.sh").exists(),
        "sources are never cleaned"
    );
}

#[test]
fn a_staging_source_may_not_escape_through_a_symlink() {
    let ws = TestWs::with_baseline();
    std::os::unix::fs::symlink("/etc", ws.path("etc-link")).unwrap();
    ws.container("x", "FROM baseline\n");
    ws.write(
        "containers/x/container.toml",
        "[[stage.copy]]\nfrom = \"etc-link/hostname\"\nto = \"files/h\"\n",
    );
    let out = ws.dk().args(["build", "x"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("outside the workspace"), "{err}");
}

#[test]
fn an_unreachable_daemon_is_exit_3_naming_the_endpoint() {
    let ws = chain();
    let out = ws
        .dk()
        .env("DOCKER_HOST", "unix:///nonexistent/dk-test.sock")
        .args(["build"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("unix:///nonexistent/dk-test.sock"), "{err}");
    assert!(err.contains("start the daemon"), "{err}");
}

#[test]
fn a_daemon_older_than_api_1_41_is_refused() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        // Answer a bounded number of requests like an old daemon would (image lookups
        // first, then the version check that comes before any change).
        listener.set_nonblocking(false).unwrap();
        for _ in 0..16 {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = r#"{"Version":"17.06.0","ApiVersion":"1.30","MinAPIVersion":"1.12"}"#;
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            if String::from_utf8_lossy(&buf).contains("/version") {
                return;
            }
        }
    });
    let ws = chain();
    let out = ws
        .dk()
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
        .args(["build"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("API 1.30") && err.contains("needs API 1.41"),
        "{err}"
    );
    let _ = server.join();
}
