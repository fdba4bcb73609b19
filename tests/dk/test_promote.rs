//! `dk test`, `dk promote` and `dk rollback` against the real daemon: nothing untested or
//! failed goes live, test containers never survive, test mounts never touch live data.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{TestWs, docker, stderr, stdout};

const GOOD: &str = r#"
[test]
ready_port = 8080

[[test.check]]
name = "serves the page"
http = "/index.html"
port = 8080
status = 200
body_contains = "hello"
"#;

/// Wait (at most 60 s) until the test launch of `node` is running. The image audit's
/// never-started container carries `dk.role=test` too, so "any test container" would race.
fn wait_for_running_test_container(ws: &TestWs, node: &str, child: &mut std::process::Child) {
    let name = format!("{}-test-{node}", ws.ns);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        let out = docker(&["inspect", "--format", "{{.State.Running}}", &name]);
        if stdout(&out).trim() == "true" {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("dk exited ({status}) before {name} was running");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("{name} was not running after 60 s");
}

#[test]
fn a_failing_check_blocks_promotion_and_live_stays() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello v1\n", GOOD);
    ws.ok(&["test"]);
    ws.ok(&["promote", "svc"]);
    let live1 = ws.image_id(&ws.image("svc", "live")).expect("svc is live");
    assert!(
        ws.image_id(&ws.image("baseline", "live")).is_some(),
        "the parent was promoted first"
    );

    // v2 breaks the page: the check says what it expected and what came.
    ws.write("containers/svc/www/index.html", "goodbye v2\n");
    let junit = ws.path("junit.xml");
    let out = ws.fails(&["test", "svc", "--junit", junit.to_str().unwrap()]);
    assert!(out.contains("serves the page"), "{out}");
    assert!(
        out.contains("expected the body to contain \"hello\""),
        "{out}"
    );
    assert!(out.contains("goodbye v2"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=") && xml.contains("serves the page"),
        "{xml}"
    );

    let out = ws.fails(&["promote", "svc"]);
    assert!(out.contains("failed its tests"), "{out}");
    assert_eq!(
        ws.image_id(&ws.image("svc", "live")),
        Some(live1),
        ":live did not move"
    );
    assert!(
        ws.containers("test").is_empty(),
        "test containers were torn down"
    );
}

#[test]
fn a_negative_check_that_succeeds_fails() {
    let ws = TestWs::for_services();
    ws.web_service(
        "svc",
        "hello\n",
        r#"
[[test.check]]
name = "cannot write the root filesystem"
exec = ["sh", "-c", "echo x > /www/new"]
expect = "fail"

[[test.check]]
name = "wrongly expected to fail"
exec = ["true"]
expect = "fail"
"#,
    );
    let out = ws.fails(&["test", "svc"]);
    assert!(out.contains("wrongly expected to fail"), "{out}");
    assert!(
        out.contains("expected this probe to fail, but it succeeded"),
        "{out}"
    );
    assert!(
        out.contains("ok   cannot write the root filesystem"),
        "{out}"
    );
}

#[test]
fn an_untested_rebuild_cannot_be_promoted_and_a_passing_test_is_not_rerun() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", GOOD);
    ws.ok(&["test"]);
    let again = ws.ok(&["test", "svc"]);
    assert!(again.contains("passed earlier"), "{again}");
    let forced = ws.ok(&["test", "svc", "--force"]);
    assert!(forced.contains("1 passed"), "{forced}");
    ws.ok(&["promote"]);

    ws.write("containers/svc/www/index.html", "hello again\n");
    ws.ok(&["build", "svc"]);
    let out = ws.fails(&["promote", "svc"]);
    assert!(
        out.contains("is untested; run `dk test svc` first"),
        "{out}"
    );

    // A changed test spec invalidates the earlier pass.
    ws.ok(&["test", "svc"]);
    ws.write(
        "containers/svc/container.toml",
        &format!("{GOOD}\n[[test.check]]\ntcp = 8080\n"),
    );
    let out = ws.fails(&["promote", "svc"]);
    assert!(out.contains("test spec of svc changed"), "{out}");
}

#[test]
fn promote_moves_live_to_prev_and_rollback_swaps_back() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello one\n", GOOD);
    ws.ok(&["test"]);
    ws.ok(&["promote"]);
    let one = ws.image_id(&ws.image("svc", "live")).unwrap();
    assert!(ws.image_id(&ws.image("svc", "prev")).is_none());

    ws.write("containers/svc/www/index.html", "hello two\n");
    ws.ok(&["test", "svc"]);
    let out = ws.ok(&["promote", "s"]);
    assert!(out.contains("kept as :prev"), "{out}");
    let two = ws.image_id(&ws.image("svc", "live")).unwrap();
    assert_ne!(one, two);
    assert_eq!(
        ws.image_id(&ws.image("svc", "prev")).as_deref(),
        Some(one.as_str())
    );
    assert_eq!(
        ws.image_id(&ws.image("svc", "latest")).as_deref(),
        Some(two.as_str())
    );

    ws.ok(&["rollback", "svc"]);
    assert_eq!(
        ws.image_id(&ws.image("svc", "live")).as_deref(),
        Some(one.as_str())
    );
    assert_eq!(
        ws.image_id(&ws.image("svc", "prev")).as_deref(),
        Some(two.as_str())
    );
    let records = std::fs::read_dir(ws.path(".dk/records/promotions/svc"))
        .unwrap()
        .count();
    assert_eq!(records, 3, "two promotions and a rollback are recorded");
}

#[test]
fn a_child_is_not_promoted_on_a_parent_that_is_not_live_at_its_id() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", GOOD);
    ws.ok(&["test"]);
    ws.ok(&["promote"]);
    // The baseline changes; only the child is tested.
    ws.write("baseline/extra.txt", "x\n");
    ws.write(
        "baseline/Dockerfile",
        &format!(
            "{}COPY extra.txt /extra.txt\n",
            std::fs::read_to_string(ws.path("baseline/Dockerfile")).unwrap()
        ),
    );
    ws.ok(&["test", "svc"]);
    let out = ws.fails(&["promote", "svc"]);
    assert!(
        out.contains("baseline") && out.contains("untested"),
        "{out}"
    );
    assert!(out.contains("svc was built on baseline"), "{out}");
    // Testing the parent too lets both go live, parent first.
    ws.ok(&["test"]);
    let out = ws.ok(&["promote", "svc"]);
    let b = out.find("baseline:").unwrap();
    let s = out.find("svc:").unwrap();
    assert!(b < s, "{out}");
}

#[test]
fn sigint_during_a_slow_check_leaves_no_container() {
    let ws = TestWs::for_services();
    ws.web_service(
        "svc",
        "hello\n",
        "[[test.check]]\nname = \"slow\"\nexec = [\"sleep\", \"30\"]\ntimeout = \"60s\"\n",
    );
    ws.ok(&["build"]);
    let mut child = ws
        .process()
        .args(["test", "svc"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_running_test_container(&ws, "svc", &mut child);
    std::thread::sleep(Duration::from_secs(3));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        ws.containers("test").is_empty(),
        "SIGINT left a test container"
    );
    assert!(
        stderr(&out).contains("interrupted by SIGINT"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_leftover_of_a_sigkilled_run_is_removed_on_the_next_start() {
    let ws = TestWs::for_services();
    ws.web_service(
        "svc",
        "hello\n",
        "[[test.check]]\nname = \"slow\"\nexec = [\"sleep\", \"30\"]\ntimeout = \"60s\"\n",
    );
    ws.ok(&["build"]);
    let mut child = ws
        .process()
        .args(["test", "svc"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_running_test_container(&ws, "svc", &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        ws.containers("test").len(),
        1,
        "SIGKILL leaves the container (nothing can clean up)"
    );
    ws.ok(&["test", "baseline"]);
    assert!(
        ws.containers("test").is_empty(),
        "the next start removed the leftover"
    );
}

#[test]
fn test_mounts_never_write_to_live_data() {
    let ws = TestWs::for_services();
    let kinds = [
        "ro",
        "persistent",
        "persistent_test_ro",
        "persistent_test_copy",
        "persistent_test_copy_tree",
        "persistent_test_copy_files",
        "logs",
    ];
    let mut manifest = String::new();
    for k in kinds {
        manifest.push_str(&format!(
            "[[mount]]\nkind = \"{k}\"\nsource = \"{k}\"\ntarget = \"/m/{k}\"\nowner = 1000\ngroup = 1000\nmode = \"0755\"\n\n"
        ));
        // Live data, as `dk prep` would make it, with a file and a subdirectory.
        let dir = ws.path(&format!("data/svc/{k}"));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("live.txt"), "live data\n").unwrap();
        // Owned by the service's user, as if the live container had written it.
        for p in [dir.clone(), dir.join("sub"), dir.join("live.txt")] {
            std::os::unix::fs::chown(&p, Some(1000), Some(1000)).unwrap();
        }
    }
    manifest.push_str("[[mount]]\nkind = \"test_only\"\nsource = \"test-data/fixture\"\ntarget = \"/m/fixture\"\nowner = 1000\ngroup = 1000\n\n");
    ws.write("containers/svc/test-data/fixture/f.txt", "fixture\n");
    // What each variant must look like, and that writing never reaches live data.
    let expect = |k: &str, check: &str| {
        format!("[[test.check]]\nname = \"{k}\"\nexec = [\"sh\", \"-c\", \"{check}\"]\n\n")
    };
    manifest.push_str(&expect(
        "ro sees live data read-only",
        "grep -q 'live data' /m/ro/live.txt && ! touch /m/ro/new",
    ));
    manifest.push_str(&expect(
        "persistent is a fresh empty dir",
        "[ -z \\\"$(ls -A /m/persistent)\\\" ] && touch /m/persistent/new",
    ));
    manifest.push_str(&expect(
        "persistent_test_ro is read-only",
        "grep -q 'live data' /m/persistent_test_ro/live.txt && ! touch /m/persistent_test_ro/new",
    ));
    manifest.push_str(&expect(
        "persistent_test_copy is empty",
        "[ -z \\\"$(ls -A /m/persistent_test_copy)\\\" ] && touch /m/persistent_test_copy/new",
    ));
    manifest.push_str(&expect("copy_tree has dirs, no files", "[ -d /m/persistent_test_copy_tree/sub ] && [ ! -e /m/persistent_test_copy_tree/live.txt ] && touch /m/persistent_test_copy_tree/new"));
    manifest.push_str(&expect("copy_files has everything", "grep -q 'live data' /m/persistent_test_copy_files/live.txt && echo changed > /m/persistent_test_copy_files/live.txt"));
    manifest.push_str(&expect(
        "logs is empty and writable",
        "[ -z \\\"$(ls -A /m/logs)\\\" ] && touch /m/logs/app.log",
    ));
    manifest.push_str(&expect(
        "test_only holds the fixture",
        "grep -q fixture /m/fixture/f.txt && touch /m/fixture/new",
    ));
    ws.web_service("svc", "hello\n", &manifest);
    let out = ws.ok(&["-v", "test", "svc"]);
    assert!(out.contains("1 passed"), "{out}");
    for k in kinds {
        let dir = ws.path(&format!("data/svc/{k}"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(names, ["live.txt", "sub"], "{k}: live data changed");
        assert_eq!(
            std::fs::read_to_string(dir.join("live.txt")).unwrap(),
            "live data\n",
            "{k}"
        );
    }
    assert!(
        !ws.path("containers/svc/test-data/fixture/new").exists(),
        "the fixture is copied, not mounted"
    );
}

#[test]
fn a_container_that_would_run_as_root_is_refused_unless_allowed() {
    let ws = TestWs::for_services();
    ws.container("rooty", "FROM baseline\nUSER 0\n");
    // A definition problem: exit 2, naming the manifest to change, for test and up alike.
    for verb in ["test", "up"] {
        let out = ws.dk().args([verb, "rooty"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{verb}: {err}");
        assert!(err.contains("would run as root"), "{err}");
        assert!(err.contains("containers/rooty/container.toml"), "{err}");
    }
    assert!(
        docker(&["inspect", &format!("{}-rooty", ws.ns)])
            .status
            .code()
            != Some(0),
        "nothing was started"
    );
    ws.write(
        "containers/rooty/container.toml",
        "[run]\nallow_root = \"test of the waiver\"\n",
    );
    ws.ok(&["test", "rooty"]);
}

#[test]
fn the_custom_test_executable_gets_the_container_and_its_address() {
    let ws = TestWs::for_services();
    ws.web_service("svc", "hello\n", "[test]\nready_port = 8080\n");
    ws.write(
        "containers/svc/test",
        "#!/bin/sh\necho \"container=$DK_CONTAINER ip=$DK_IP image=$DK_IMAGE\"\n[ -n \"$DK_IP\" ] && [ -n \"$DK_IMAGE\" ] && [ -n \"$DK_CONTAINER\" ]\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        ws.path("containers/svc/test"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let out = ws.ok(&["-v", "test", "svc"]);
    assert!(out.contains("ok   custom test"), "{out}");
    ws.write(
        "containers/svc/test",
        "#!/bin/sh\necho \"custom says no to $DK_CONTAINER\"\nexit 3\n",
    );
    let out = ws.fails(&["test", "svc"]);
    assert!(
        out.contains(&format!("custom says no to {}-test-svc", ws.ns)),
        "{out}"
    );
}

#[test]
fn every_probe_kind_works() {
    let ws = TestWs::for_services();
    ws.web_service(
        "svc",
        "hello\n",
        r#"
[test]
ready_port = 8080

[[test.check]]
tcp = 8080

[[test.check]]
name = "through a port published on 127.0.0.1"
http = "/"
port = 8080
via = "loopback"
body_contains = "hello"

[[test.check]]
exec = ["id", "-u"]
stdout_matches = "^1000\\s*$"

[[test.check]]
exec = ["sh", "-c", "echo oops >&2; exit 3"]
exit_code = 3
stderr_contains = "oops"

[[test.check]]
file = "/www/index.html"
mode = "0644"
owner = "0"
contains = "hello"

[[test.check]]
file = "/etc/shadow"
exists = false

[[test.check]]
not_root = true

[[test.check]]
name = "a closed port"
tcp = 9
expect = "fail"
timeout = "3s"
"#,
    );
    let out = ws.ok(&["-v", "test", "svc"]);
    assert!(
        out.contains("ok   through a port published on 127.0.0.1"),
        "{out}"
    );
    assert!(out.contains("ok   a closed port"), "{out}");
    // Nothing is published on the host in the live sense: the test container is gone.
    assert!(ws.containers("test").is_empty());
}

#[test]
fn fail_fast_stops_running_tests_and_leaves_no_test_container() {
    let ws = TestWs::for_services();
    // `bad` fails at once; `slow`'s check takes 30 s, so it is running when `bad` fails.
    ws.container("bad", "FROM baseline\n");
    ws.write(
        "containers/bad/container.toml",
        "[test]\ngrace = \"0s\"\n[[test.check]]\nexec = [\"false\"]\n",
    );
    ws.container("slow", "FROM baseline\n");
    ws.write(
        "containers/slow/container.toml",
        "[test]\ngrace = \"1s\"\n[[test.check]]\nexec = [\"sleep\", \"30\"]\ntimeout = \"40s\"\n",
    );
    ws.ok(&["build"]);
    let out = ws
        .dk()
        .args(["test", "-j", "2", "--fail-fast", "bad", "slow", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let status = |node: &str| {
        summary["summary"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == node)
            .map(|n| n["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("bad"), "failed", "{text}");
    assert_eq!(status("slow"), "cancelled", "{text}");
    // The running test was stopped and torn down, not dropped.
    let left = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=dk.workspace={}", ws.id()),
        "--filter",
        "label=dk.role=test",
    ]);
    assert_eq!(stdout(&left).trim(), "", "test containers left behind");
    // Nothing was recorded for the cancelled test: the next run tests it.
    assert!(
        !std::fs::read_dir(ws.path(".dk/records/tests/slow"))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false),
        "a cancelled test left a record"
    );
}
