//! The bad-input corpus: malformed workspaces, manifests and Dockerfiles. Each must exit 2
//! with the file (and line, where there is one) and no panic. None of these needs a daemon.

use crate::common::TestWs;

/// A valid two-container workspace to break in one place.
fn good() -> TestWs {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\nCOPY x /x\n");
    ws.container("web", "FROM baseline\nCMD [\"httpd\"]\n");
    ws.container("site", "FROM web\n");
    ws
}

/// Run `dk ls` and expect exit 2 with every needle in stderr.
fn fails_with(ws: &TestWs, needles: &[&str]) -> String {
    let out = ws.dk().arg("ls").output().unwrap();
    let err = crate::common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in:\n{err}");
    }
    err
}

/// Definition mistakes, one per row: (case, file written into the good workspace, its
/// content, what the exit-2 diagnostic must say: file:line and the words that explain it).
#[rustfmt::skip]
const BAD_FILES: &[(&str, &str, &str, &[&str])] = &[
    ("toml_syntax_error_in_dk_toml", "dk.toml", "namespace = \"x\"\n[network\n", &["dk.toml:2:"]),
    ("unknown_key_in_dk_toml_suggests", "dk.toml", "namepsace = \"x\"\n", &["dk.toml:1:1", "unknown key `namepsace`", "did you mean `namespace`?"]),
    ("toml_syntax_error_in_manifest", "containers/web/container.toml", "autostart = true\n[run\nports = []\n", &["containers/web/container.toml:2:"]),
    ("unknown_key_in_manifest_section", "containers/web/container.toml", "[run]\nmemory = \"64m\"\nprots = [\"80:80\"]\n", &["containers/web/container.toml:3:1", "unknown key `prots` in [run]", "did you mean `ports`?"]),
    ("wrong_type_names_the_key", "containers/web/container.toml", "autostart = \"yes\"\n", &["containers/web/container.toml:1:", "autostart"]),
    ("dockerfile_without_from", "containers/web/Dockerfile", "# only a comment\n\n", &["containers/web/Dockerfile:1", "no FROM"]),
    ("instruction_before_from", "containers/web/Dockerfile", "ARG X=1\nRUN echo $X\nFROM baseline\n", &["containers/web/Dockerfile:2", "before the first FROM"]),
    ("from_without_image", "containers/web/Dockerfile", "FROM baseline\nFROM --platform=linux/amd64\n", &["containers/web/Dockerfile:2", "FROM without an image"]),
    ("self_reference", "containers/web/Dockerfile", "FROM baseline\nCOPY --from=web /a /a\n", &["containers/web/Dockerfile:2", "web -> web"]),
    ("name_docker_rejects", "containers/Web_App/Dockerfile", "FROM baseline\n", &["containers/Web_App/", "Docker rejects it"]),
    ("two_nodes_mapping_to_one_image", "containers/baseline/Dockerfile", "FROM scratch\n", &["containers/baseline/", "same image"]),
    ("unknown_mount_kind", "containers/web/container.toml", "[[mount]]\nkind = \"persistant\"\nsource = \"d\"\ntarget = \"/d\"\n", &["containers/web/container.toml:2:", "persistant"]),
    ("check_with_two_probes", "containers/web/container.toml", "[[test.check]]\ntcp = 80\nhttp = \"/\"\n", &["containers/web/container.toml:1:", "more than one probe"]),
    ("waiver_without_reason", "containers/web/container.toml", "\n[[lint.waive]]\nrule = \"DL3007\"\n", &["containers/web/container.toml:2:", "no reason"]),
    ("staging_path_escaping_the_workspace", "containers/web/container.toml", "[[stage.copy]]\nfrom = \"../../etc/passwd\"\nto = \"files/passwd\"\n", &["containers/web/container.toml:1:", "may not contain `..`"]),
    ("invalid_subnet", "dk.toml", "[network.live]\nsubnet = \"172.30.0.1/24\"\n", &["dk.toml:2:", "host bits set"]),
    ("overlapping_live_and_test_subnets", "dk.toml", "[network.live]\nsubnet = \"172.30.0.0/16\"\n[network.test]\nsubnet = \"172.30.5.0/24\"\n", &["dk.toml:4:", "overlaps"]),
    ("bad_static_ip", "containers/web/container.toml", "[run]\nip = \"172.30.0.300\"\n", &["containers/web/container.toml:2:", "not an IPv4 address"]),
    ("bad_port_mapping", "containers/web/container.toml", "[run]\nports = [\"80\"]\n", &["containers/web/container.toml:2:", "not a port mapping"]),
    ("after_names_an_unknown_node", "containers/site/container.toml", "after = [\"wbe\"]\n", &["containers/site/container.toml:1:", "`wbe` is not a node", "did you mean `web`?"]),
    ("invalid_namespace", "dk.toml", "namespace = \"My Images\"\n", &["dk.toml:1:", "not a valid Docker repository name"]),
    ("build_target_that_is_not_a_stage", "containers/web/container.toml", "[build]\ntarget = \"final\"\n", &["containers/web/container.toml", "`final` is not a stage"]),
    ("bad_duration", "containers/web/container.toml", "[test]\ngrace = \"2 fortnights\"\n", &["containers/web/container.toml", "test.grace"]),
];

#[test]
fn every_bad_file_is_exit_2_at_its_line_with_what_is_wrong() {
    let mut failed = Vec::new();
    for (case, path, content, needles) in BAD_FILES {
        let ws = good();
        ws.write(path, content);
        let out = ws.dk().arg("ls").output().unwrap();
        let err = crate::common::stderr(&out);
        let missing: Vec<&&str> = needles.iter().filter(|n| !err.contains(**n)).collect();
        if out.status.code() != Some(2) || err.contains("panicked") || !missing.is_empty() {
            failed.push(format!(
                "{case}: exit {:?}, missing {missing:?} in:\n{err}",
                out.status.code()
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn the_good_workspace_loads() {
    let ws = good();
    let out = ws.dk().arg("ls").output().unwrap();
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let text = crate::common::stdout(&out);
    let site: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("site"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(site[..2], ["site", "web"], "{text}");
}

#[test]
fn node_directory_without_dockerfile() {
    let ws = good();
    std::fs::create_dir_all(ws.path("containers/empty")).unwrap();
    ws.write("containers/empty/container.toml", "");
    fails_with(&ws, &["containers/empty/", "has no Dockerfile"]);
}

#[test]
fn four_mistakes_in_two_files_are_all_reported_at_their_lines() {
    // serde stops at the first refused key; dk reports every one, each at file:line:col.
    let ws = good();
    ws.write(
        "containers/web/container.toml",
        "[run]\nmemroy = \"64m\"\nuser = 5\n\n[build]\nplatfrom = \"linux/amd64\"\n",
    );
    ws.write(
        "containers/site/container.toml",
        "[run]\nread_onyl = true\n",
    );
    let err = fails_with(
        &ws,
        &[
            "containers/web/container.toml:2:1: unknown key `memroy` in [run]",
            "did you mean `memory`?",
            "containers/web/container.toml:3:8: key `run.user`: invalid type: integer `5`, expected a string",
            "containers/web/container.toml:6:1: unknown key `platfrom` in [build]",
            "containers/site/container.toml:2:1: unknown key `read_onyl` in [run]",
        ],
    );
    assert_eq!(err.matches("container.toml:").count(), 4, "{err}");
}

#[test]
fn cycle_of_two_prints_the_path_with_lines() {
    let ws = good();
    ws.container("web", "FROM site\n");
    ws.container("site", "# site\nFROM web\n");
    let err = fails_with(
        &ws,
        &[
            "dependency cycle:",
            "containers/site/Dockerfile:2",
            "containers/web/Dockerfile:1",
        ],
    );
    assert!(
        err.contains("site -> web -> site") || err.contains("web -> site -> web"),
        "{err}"
    );
}

#[test]
fn a_node_named_like_its_upstream_image_builds_on_that_image_not_on_itself() {
    // Real Compose files have a service `redis` with `image: redis:alpine` (and Kong's
    // `kong`); imported, its Dockerfile says `FROM redis:7-alpine`.
    let ws = good();
    ws.container(
        "redis",
        "FROM redis:7-alpine\nCOPY --from=redis:7-alpine /x /x\n",
    );
    let redis = ws.ls_node("redis");
    assert_eq!(redis["parents"], serde_json::json!([]), "{redis}");
    // A digest, or the qualified name, means upstream too.
    let digest = format!("sha256:{}", "a".repeat(64));
    for upstream in [
        format!("redis@{digest}"),
        "docker.io/library/redis".to_string(),
    ] {
        ws.container("redis", &format!("FROM {upstream}\n"));
        let redis = ws.ls_node("redis");
        assert_eq!(
            redis["parents"],
            serde_json::json!([]),
            "{upstream}: {redis}"
        );
    }
    // Without a tag it is still a mistake, and the help says how to mean upstream.
    ws.container("redis", "FROM redis\n");
    fails_with(
        &ws,
        &[
            "dependency cycle: redis -> redis",
            "qualify it, `docker.io/library/redis`, or give its tag, `redis:<version>`",
        ],
    );
}

#[test]
fn cycle_of_three_prints_every_edge() {
    let ws = good();
    ws.container("a", "FROM c\n");
    ws.container("b", "FROM a\n");
    ws.container("c", "FROM baseline AS base\nCOPY --from=b /x /x\n");
    let err = fails_with(
        &ws,
        &[
            "dependency cycle:",
            "containers/c/Dockerfile:2: c COPY --from b",
        ],
    );
    let path_line = err
        .lines()
        .find(|l| l.contains("dependency cycle:"))
        .unwrap();
    assert_eq!(path_line.matches("->").count(), 3, "{path_line}");
}

#[test]
fn empty_containers_directory() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    std::fs::create_dir_all(ws.path("containers")).unwrap();
    fails_with(&ws, &["containers/", "no container definitions"]);
}

#[test]
fn missing_dk_toml() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::common::dk_bare()
        .arg("-C")
        .arg(dir.path())
        .arg("ls")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("dk.toml") && err.contains("not a dk workspace"),
        "{err}"
    );
}

#[test]
fn missing_baseline() {
    let ws = TestWs::empty();
    ws.container("web", "FROM scratch\n");
    fails_with(&ws, &["baseline", "no baseline/ directory"]);
}

#[test]
fn symlinked_node_escaping_the_workspace() {
    let ws = good();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("Dockerfile"), "FROM baseline\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), ws.path("containers/evil")).unwrap();
    fails_with(&ws, &["containers/evil/", "outside the workspace"]);
}

#[test]
fn ambiguous_prefix_lists_candidates() {
    let ws = good();
    ws.container("webstats", "FROM web\n");
    let out = ws.dk().args(["plan", "web", "webs", "w"]).output().unwrap();
    let err = crate::common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`w` is ambiguous") && err.contains("web, webstats"),
        "{err}"
    );
}

#[test]
fn unknown_name_suggests_the_closest() {
    let ws = good();
    let out = ws.dk().args(["plan", "stie"]).output().unwrap();
    let err = crate::common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no container or baseline named `stie`") && err.contains("`site`"),
        "{err}"
    );
}

#[test]
fn help_lists_every_verb_of_the_contract() {
    let out = crate::common::dk_bare().arg("--help").output().unwrap();
    let help = crate::common::stdout(&out);
    for verb in [
        "build", "test", "promote", "up", "start", "stop", "restart", "down", "rollback", "status",
        "ls", "plan", "graph", "logs", "shell", "prep", "clean", "lint",
    ] {
        assert!(
            help.contains(&format!("\n  {verb} ")),
            "`{verb}` missing from:\n{help}"
        );
    }
    // Each verb has its own help.
    let out = crate::common::dk_bare()
        .args(["up", "--help"])
        .output()
        .unwrap();
    assert!(
        crate::common::stdout(&out).contains("start waves"),
        "{}",
        crate::common::stdout(&out)
    );
}

#[test]
fn several_problems_are_reported_together() {
    let ws = good();
    ws.write(
        "containers/web/container.toml",
        "[run]\nip = \"nope\"\nports = [\"x:1\"]\n",
    );
    ws.container("site", "RUN x\n");
    fails_with(
        &ws,
        &[
            "containers/web/container.toml:2:",
            "containers/web/container.toml:3:",
            "containers/site/Dockerfile:1",
        ],
    );
}

#[test]
fn graph_formats_and_json() {
    let ws = good();
    ws.container(
        "files",
        "FROM baseline AS b\nFROM scratch\nCOPY --from=web /a /a\nCOPY --from=b /x /x\n",
    );
    let dot = ws.dk().args(["graph", "--format", "dot"]).output().unwrap();
    let dot = crate::common::stdout(&dot);
    assert!(
        dot.contains("\"web\" -> \"files\" [label=\"COPY --from\"]"),
        "{dot}"
    );
    assert!(
        dot.contains("\"baseline\" -> \"files\" [label=\"FROM\"]"),
        "{dot}"
    );
    let mermaid = crate::common::stdout(
        &ws.dk()
            .args(["graph", "--format", "mermaid"])
            .output()
            .unwrap(),
    );
    assert!(mermaid.starts_with("graph TD"), "{mermaid}");
    let json = ws.dk().args(["graph", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["order"][0], "baseline");
    let files = ws.ls_node("files");
    assert_eq!(files["parents"], serde_json::json!(["baseline", "web"]));
}

#[test]
fn unpinned_external_base_is_a_warning() {
    let ws = good();
    ws.container("tool", "FROM alpine\n");
    let out = ws.dk().arg("ls").output().unwrap();
    assert!(out.status.success());
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("containers/tool/Dockerfile:1: warning: base image `alpine` has no tag"),
        "{err}"
    );
}

#[test]
fn workspace_is_found_from_a_subdirectory() {
    let ws = good();
    let out = crate::common::dk_bare()
        .current_dir(ws.path("containers/web"))
        .arg("ls")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
}

#[test]
fn every_bad_run_setting_is_exit_2_at_its_line_before_anything_runs() {
    let ws = good();
    ws.write(
        "containers/web/container.toml",
        "[run]\nmemory = \"lots\"\nstop_timeout = \"10 parsecs\"\nports = [\"8080:80\", \"99999:80\"]\n[run.healthcheck]\ncommand = [\"true\"]\ninterval = \"often\"\n",
    );
    let err = fails_with(
        &ws,
        &[
            "containers/web/container.toml:2:10: key `run.memory`",
            "containers/web/container.toml:3:16: key `run.stop_timeout`",
            "containers/web/container.toml:4:21: key `run.ports`",
            "containers/web/container.toml:7:12: key `run.healthcheck.interval`",
        ],
    );
    assert!(err.contains("99999"), "{err}");
    // The same for the commands that would start something: nothing is built or run.
    for verb in ["up", "test", "build"] {
        let out = ws.dk().arg(verb).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{verb}");
    }
}

#[test]
fn start_first_with_a_published_port_or_a_static_address_is_refused_at_its_line() {
    let ws = good();
    ws.write(
        "containers/web/container.toml",
        "[run]\nports = [\"8080:80\"]\nip = \"172.30.0.9\"\nreplace = \"start-first\"\n",
    );
    fails_with(
        &ws,
        &[
            "containers/web/container.toml:4:11: run.replace: start-first runs two containers at once, and both cannot hold the same published host port",
            "both cannot hold the same static address",
            "publish the port from a proxy container",
        ],
    );
}

#[test]
fn bad_run_settings_of_real_servers_are_exit_2_at_their_file() {
    let ws = good();
    ws.write(
        "containers/web/container.toml",
        r#"[run]
userns = "private"
ulimits = { nofiles = 10 }
sysctls = { "vm.swappiness" = "10" }
labels = { "dk.node" = "x" }
security_opt = ["privileged"]

[run.log]
driver = "syslgo"

[[mount]]
kind = "ro"
host = "/etc"
target = "/host-etc"

[[mount]]
kind = "ro"
host = "relative/path"
target = "/r"

[[mount]]
kind = "ro"
from = "nowhere"
target = "/n"

[[mount]]
kind = "ro"
source = "a"
volume = "b"
target = "/two"
"#,
    );
    fails_with(
        &ws,
        &[
            "run.userns: `private`",
            "run.ulimits: `nofiles` is not a ulimit",
            "did you mean `nofile`?",
            "run.sysctls: `vm.swappiness`",
            "run.labels: `dk.node`",
            "run.security_opt: `privileged`",
            "run.log.driver: `syslgo` is not one of Docker's log drivers",
            "did you mean `syslog`?",
            "containers/web/container.toml:11:1: mount.host: `/etc` exposes the host",
            "mount.host: `relative/path` must be an absolute host path",
            "mount.from: `nowhere` is not `<container>:<path>`",
            "mount /two: give exactly one of `source`, `host`, `from` or `volume`",
        ],
    );
}
