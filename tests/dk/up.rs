//! `dk up` and the launcher against the real daemon: start from nothing, touch nothing when
//! nothing changed, replace exactly what changed, keep the old container when anything fails.

use crate::common::{TestWs, docker, stderr, stdout};

const CHECKED: &str = r#"autostart = true

[test]
ready_port = 8080

[[test.check]]
name = "serves hello"
http = "/index.html"
port = 8080
body_contains = "hello"
"#;

/// (container id, image id, started at, running) of a live container.
fn live(ws: &TestWs, node: &str) -> Option<(String, String, String, bool)> {
    let out = docker(&[
        "inspect",
        "--format",
        "{{.Id}} {{.Image}} {{.State.StartedAt}} {{.State.Running}}",
        &format!("{}-{node}", ws.ns),
    ]);
    if !out.status.success() {
        return None;
    }
    let s = stdout(&out);
    let f: Vec<&str> = s.split_whitespace().collect();
    Some((f[0].into(), f[1].into(), f[2].into(), f[3] == "true"))
}

#[test]
fn up_by_prefix_from_nothing_then_a_second_up_touches_nothing() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", CHECKED);
    let out = ws.ok(&["up", "s"]);
    assert!(out.contains("svc: created and started"), "{out}");
    let (id, image, started, running) = live(&ws, "svc").expect("a live container");
    assert!(running);
    assert_eq!(
        Some(image),
        ws.image_id(&ws.image("svc", "live")),
        "runs :live"
    );

    let out = ws.ok(&["up", "svc"]);
    assert!(out.contains("svc: running, unchanged"), "{out}");
    let (id2, _, started2, running2) = live(&ws, "svc").unwrap();
    assert_eq!(
        (id2, started2, running2),
        (id, started, true),
        "same container, same start"
    );

    let out = ws.ok(&["status", "svc"]);
    assert!(
        out.contains("running") && out.contains("yes") && out.contains("passed"),
        "{out}"
    );
}

#[test]
fn live_containers_are_locked_down() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", CHECKED);
    ws.ok(&["up"]);
    let out = docker(&[
        "inspect",
        "--format",
        "{{json .HostConfig.CapDrop}}|{{json .HostConfig.CapAdd}}|{{json .HostConfig.SecurityOpt}}|{{.HostConfig.ReadonlyRootfs}}|{{.Config.User}}|{{.HostConfig.RestartPolicy.Name}}|{{.HostConfig.LogConfig.Type}}|{{index .Config.Labels \"dk.role\"}}",
        &format!("{}-svc", ws.ns),
    ]);
    assert_eq!(
        stdout(&out).trim(),
        "[\"ALL\"]|null|[\"no-new-privileges:true\"]|true|1000:1000|on-failure|json-file|live"
    );
    let out = docker(&[
        "exec",
        &format!("{}-svc", ws.ns),
        "sh",
        "-c",
        "grep -E '^(Uid|CapEff)' /proc/1/status",
    ]);
    let text = stdout(&out);
    assert!(text.contains("Uid:\t1000"), "{text}");
    assert!(text.contains("CapEff:\t0000000000000000"), "{text}");
}

#[test]
fn a_parent_change_replaces_exactly_the_containers_built_on_it() {
    let ws = TestWs::for_services();
    ws.web_service("a", "hello a\n", CHECKED);
    ws.container("b", "FROM a\nENV B=1\n");
    ws.write(
        "containers/b/container.toml",
        &format!("after = [\"a\"]\n{CHECKED}"),
    );
    ws.web_service("c", "hello c\n", CHECKED);
    ws.ok(&["up"]);
    let before: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| live(&ws, n).unwrap())
        .collect();
    // Waves: b waited for a.
    assert!(before[1].2 > before[0].2, "b started after a: {before:?}");

    ws.write("containers/a/www/index.html", "hello a2\n");
    let out = ws.ok(&["up"]);
    assert!(out.contains("a: replaced (image"), "{out}");
    assert!(out.contains("b: replaced (image"), "{out}");
    assert!(out.contains("c: running, unchanged"), "{out}");
    assert!(out.contains("down for"), "the downtime is reported: {out}");
    let after: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| live(&ws, n).unwrap())
        .collect();
    assert_ne!(after[0].0, before[0].0);
    assert_ne!(after[1].0, before[1].0);
    assert_eq!(after[2], before[2], "c untouched");
    assert!(after.iter().all(|c| c.3), "all running");
}

#[test]
fn a_failing_test_keeps_the_old_container_running() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", CHECKED);
    ws.ok(&["up"]);
    let before = live(&ws, "svc").unwrap();
    ws.write("containers/svc/www/index.html", "broken\n");
    let out = ws.dk().args(["up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no container was touched"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        live(&ws, "svc").unwrap(),
        before,
        "the old container runs on"
    );
}

#[test]
fn a_settings_change_replaces_the_container_and_a_bad_one_restores_the_old() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", CHECKED);
    ws.ok(&["up"]);
    let before = live(&ws, "svc").unwrap();
    ws.write(
        "containers/svc/container.toml",
        &format!("{CHECKED}\n[run]\nenv = {{ MODE = \"two\" }}\n"),
    );
    let out = ws.ok(&["up"]);
    assert!(out.contains("svc: replaced (settings changed)"), "{out}");
    let after = live(&ws, "svc").unwrap();
    assert_ne!(after.0, before.0, "a new container");
    assert_eq!(after.1, before.1, "the same image");
    let env = docker(&[
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        &format!("{}-svc", ws.ns),
    ]);
    assert!(stdout(&env).contains("MODE=two"));

    // A device that does not exist: the new container cannot start; the old one comes back.
    ws.write(
        "containers/svc/container.toml",
        &format!("{CHECKED}\n[run]\nenv = {{ MODE = \"two\" }}\ndevices = [\"/dev/dk-test-nonexistent\"]\n"),
    );
    let out = ws.dk().args(["up"]).output().unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}");
    let restored = live(&ws, "svc").unwrap();
    assert_eq!(restored.0, after.0, "the old container is back: {text}");
    assert!(restored.3, "and running: {text}");
}

#[test]
fn an_ambiguous_prefix_is_exit_2_with_candidates() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", CHECKED);
    ws.web_service("svc2", "hello\n", CHECKED);
    let out = ws.dk().args(["up", "sv"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`sv` is ambiguous: it is a prefix of svc, svc2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn prep_shifts_owners_by_the_userns_remap_and_never_loosens_without_fix() {
    let ws = TestWs::for_services();
    ws.web_service(
        "svc",
        "hello\n",
        "[[mount]]\nkind = \"persistent\"\nsource = \"state\"\ntarget = \"/state\"\nowner = 1000\ngroup = 1001\nmode = \"0750\"\n",
    );
    ws.write(
        "fake/subuid",
        "someone:100000:65536\ndockremap:200000:65536\n",
    );
    ws.write("fake/subgid", "dockremap:300000:65536\n");
    let prep = |extra: &[&str]| {
        let mut c = ws.dk();
        c.env("DK_USERNS_REMAP", "default")
            .env("DK_SUBUID_FILE", ws.path("fake/subuid"))
            .env("DK_SUBGID_FILE", ws.path("fake/subgid"))
            .arg("prep")
            .args(extra);
        c.output().unwrap()
    };
    let out = prep(&["svc"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("created (owner 201000, group 301001, mode 0750)"),
        "{}",
        stdout(&out)
    );
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(ws.path("data/svc/state")).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (201000, 301001, 0o750)
    );

    // Someone tightened it: dk does not loosen it without --fix.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        ws.path("data/svc/state"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let out = prep(&["svc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("run with --fix"), "{}", stdout(&out));
    assert_eq!(
        std::fs::metadata(ws.path("data/svc/state")).unwrap().mode() & 0o7777,
        0o700
    );
    let out = prep(&["svc", "--fix"]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(
        std::fs::metadata(ws.path("data/svc/state")).unwrap().mode() & 0o7777,
        0o750
    );
    // A missing line for the remap user is a clear error.
    ws.write("fake/subuid", "someone:100000:65536\n");
    let out = prep(&["svc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("has no line for `dockremap`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn down_removes_the_container_and_keeps_its_data() {
    let ws = TestWs::for_services();
    ws.web_service(
        "svc",
        "hello\n",
        &format!("{CHECKED}\n[[mount]]\nkind = \"persistent\"\nsource = \"state\"\ntarget = \"/state\"\nowner = 1000\ngroup = 1000\n"),
    );
    let out = ws.dk().args(["up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run `dk prep svc`"),
        "{}",
        stderr(&out)
    );
    ws.ok(&["prep"]);
    ws.ok(&["up"]);
    let out = docker(&[
        "exec",
        &format!("{}-svc", ws.ns),
        "sh",
        "-c",
        "echo kept > /state/file",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ws.dk().args(["down"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "down without names needs --all");
    let out = ws.ok(&["down", "--all"]);
    assert!(out.contains("svc: removed (data kept)"), "{out}");
    assert!(live(&ws, "svc").is_none());
    assert_eq!(
        std::fs::read_to_string(ws.path("data/svc/state/file")).unwrap(),
        "kept\n"
    );
    // And up brings it back on the same data.
    ws.ok(&["up", "svc"]);
    let out = docker(&["exec", &format!("{}-svc", ws.ns), "cat", "/state/file"]);
    assert_eq!(stdout(&out), "kept\n");
}

#[test]
fn stop_start_restart_and_rollback() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello one\n", CHECKED);
    ws.ok(&["up"]);
    let one = live(&ws, "svc").unwrap();
    ws.ok(&["stop", "s"]);
    assert!(!live(&ws, "svc").unwrap().3);
    let out = ws.ok(&["start", "svc"]);
    assert!(out.contains("svc: started"), "{out}");
    assert_eq!(live(&ws, "svc").unwrap().0, one.0, "the same container");
    let out = ws.ok(&["restart", "svc"]);
    assert!(out.contains("stopped") && out.contains("started"), "{out}");

    ws.write("containers/svc/www/index.html", "hello two\n");
    ws.ok(&["up"]);
    let two = live(&ws, "svc").unwrap();
    assert_ne!(two.1, one.1);
    let out = ws.ok(&["rollback", "svc"]);
    assert!(out.contains("replaced"), "{out}");
    let back = live(&ws, "svc").unwrap();
    assert_eq!(back.1, one.1, "runs the previous image again");
    // A shell as the container's user (stdin not a terminal: no TTY).
    let out = ws
        .dk()
        .args(["shell", "svc"])
        .write_stdin("id -u\nexit 7\n")
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), "1000", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(7), "the shell's exit code is dk's");
    // Logs of the live container: httpd logs nothing here, but the call works.
    ws.ok(&["logs", "svc"]);
}

#[test]
fn an_overlapping_subnet_is_reported_by_dk() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", CHECKED);
    // Docker's default bridge is 172.17.0.0/16 here.
    let bridge = docker(&[
        "network",
        "inspect",
        "bridge",
        "--format",
        "{{(index .IPAM.Config 0).Subnet}}",
    ]);
    let subnet = stdout(&bridge).trim().to_string();
    let first = subnet
        .split('/')
        .next()
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0
        .to_string();
    let live_subnet = format!(
        "{}.0/24",
        first
            .rsplit_once('.')
            .map(|(a, _)| format!("{a}.200"))
            .unwrap()
    );
    let text = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    let replaced: String = text
        .lines()
        .map(|l| {
            if l.starts_with("subnet = \"10.213.") {
                format!("subnet = \"{live_subnet}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    ws.write("dk.toml", &replaced);
    let out = ws.dk().args(["up"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("overlaps network `bridge`"), "{err}");
    assert!(live(&ws, "svc").is_none());
}

#[test]
fn up_force_rebuilds_retests_and_keeps_the_service_when_the_image_is_the_same() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", CHECKED);
    ws.ok(&["up", "svc"]);
    // Nothing changed: a plain up is a no-op…
    let out = ws.ok(&["up", "svc"]);
    assert!(out.contains("2 passed earlier"), "{out}");
    // …and --force rebuilds the named node (not its dependencies) and tests it again.
    let out = ws.ok(&["up", "--force", "svc", "--json"]);
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let tests = summary["summary"]["tests"]["nodes"].as_array().unwrap();
    let svc = tests.iter().find(|n| n["name"] == "svc").unwrap();
    assert_eq!(svc["status"], "passed", "{svc}");
    let baseline = tests.iter().find(|n| n["name"] == "baseline").unwrap();
    assert_eq!(baseline["status"], "passed_earlier", "{baseline}");
    let built: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["event"] == "finish" && e["action"] == "build")
        .collect();
    let status = |node: &str| {
        built
            .iter()
            .find(|e| e["node"] == node)
            .map(|e| e["status"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(status("svc").starts_with("built "), "{built:?}");
    assert_eq!(status("baseline"), "fresh", "{built:?}");
}
