//! Deploys that cannot take a service down: a replacement is done only when the new
//! container is ready, the old one comes back otherwise, a failed start is remembered,
//! start-first never stops serving, releases are kept for rollback, hooks run around it.

use crate::common::{TestWs, docker, stderr, stdout, unique};

/// A busybox httpd service whose page is `page`; `check` is a shell test run before the
/// server starts (a live-only config check: exit 1 when it fails).
fn service(ws: &TestWs, name: &str, page: &str, check: &str, manifest: &str) {
    ws.container(
        name,
        &format!(
            "FROM baseline\nCOPY www /www\nCMD [\"sh\", \"-c\", \"{check} exec httpd -f -p 8080 -h /www\"]\n"
        ),
    );
    ws.write(&format!("containers/{name}/www/index.html"), page);
    ws.write(
        &format!("containers/{name}/.dockerignore"),
        "container.toml\n",
    );
    // The shell wrapper is the fixture's config check, not a signal problem to fix.
    ws.write(
        &format!("containers/{name}/container.toml"),
        &format!(
            "{manifest}\n[[audit.waive]]\nrule = \"entrypoint-form\"\nreason = \"the fixture checks its config in a shell first\"\n"
        ),
    );
}

/// (container id, image id, running) of a live container.
fn live(ws: &TestWs, node: &str) -> Option<(String, String, bool)> {
    let out = docker(&[
        "inspect",
        "--format",
        "{{.Id}} {{.Image}} {{.State.Running}}",
        &format!("{}-{node}", ws.ns),
    ]);
    let s = stdout(&out);
    let f: Vec<&str> = s.split_whitespace().collect();
    out.status
        .success()
        .then(|| (f[0].to_string(), f[1].to_string(), f[2] == "true"))
}

/// The page a live container serves, fetched from a throw-away container on the live
/// network (by the node's name).
fn fetch(ws: &TestWs, node: &str) -> String {
    let name = unique("dktestfetch");
    let out = docker(&[
        "run",
        "--rm",
        "--name",
        &name,
        "--label",
        &format!("dk.workspace={}", ws.id()),
        "--network",
        &format!("{}-live", ws.ns),
        &ws.image("baseline", "latest"),
        // (This busybox's wget crashes with -T: a timeout applet bounds it instead.)
        "timeout",
        "5",
        "wget",
        "-q",
        "-O-",
        &format!("http://{node}:8080/"),
    ]);
    assert!(
        out.status.success(),
        "fetching from {node}: {:?} {} {}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

const LIVE: &str = "[[mount]]\nkind = \"persistent_test_copy\"\nsource = \"conf\"\ntarget = \"/conf\"\n\n[run.ready]\nport = 8080\nhttp = \"/\"\ntimeout = \"10s\"\ngrace = \"1s\"\n";

#[test]
fn a_live_only_failure_puts_the_old_container_back_and_is_not_retried_until_asked() {
    let ws = TestWs::for_services();
    std::fs::create_dir_all(ws.path("data/svc/conf")).unwrap();
    service(&ws, "svc", "v1\n", "", LIVE);
    ws.ok(&["up", "svc"]);
    let (old_id, old_image, _) = live(&ws, "svc").expect("running");
    assert_eq!(fetch(&ws, "svc"), "v1\n");

    // v2 refuses a config file that only the live data has (the test launch gets an empty
    // copy of the directory, so v2 passes its tests).
    service(
        &ws,
        "svc",
        "v2\n",
        "if [ -e /conf/bad ]; then echo cannot parse /conf/bad >&2; exit 1; fi;",
        LIVE,
    );
    ws.write("data/svc/conf/bad", "garbage\n");
    let out = ws.fails(&["up", "svc"]);
    assert!(out.contains("svc: "), "{out}");
    assert!(out.contains("1 passed"), "v2 passed its tests: {out}");
    assert!(
        out.contains("did not become ready") && out.contains("exit code 1"),
        "{out}"
    );
    assert!(out.contains("cannot parse /conf/bad"), "{out}");
    assert!(
        out.contains("the old container was put back and runs again"),
        "{out}"
    );
    let log = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("full log: "))
        .expect("the kept log");
    assert!(
        std::fs::read_to_string(ws.path(log))
            .unwrap()
            .contains("cannot parse")
    );
    let (id, image, running) = live(&ws, "svc").expect("the old one is back");
    assert_eq!(
        (id.as_str(), image.as_str(), running),
        (old_id.as_str(), old_image.as_str(), true)
    );
    assert_eq!(fetch(&ws, "svc"), "v1\n", "the old one serves again");

    // Remembered: not tried again in a loop.
    let out = ws.fails(&["up", "svc"]);
    assert!(out.contains("not tried again"), "{out}");
    assert_eq!(live(&ws, "svc").unwrap().0, old_id, "untouched");
    let status = ws.ok(&["status", "svc"]);
    assert!(status.contains("failed start"), "{status}");

    // Fixed outside dk: --retry tries again, and it goes live.
    std::fs::remove_file(ws.path("data/svc/conf/bad")).unwrap();
    let out = ws.ok(&["up", "--retry", "svc"]);
    assert!(out.contains("svc: replaced"), "{out}");
    assert_eq!(fetch(&ws, "svc"), "v2\n");
    assert!(!ws.ok(&["status", "svc"]).contains("failed start"));
}

#[test]
fn a_container_that_never_gets_ready_times_out_and_the_old_one_stays() {
    let ws = TestWs::for_services();
    service(&ws, "svc", "v1\n", "", "");
    ws.ok(&["up", "svc"]);
    let (old_id, ..) = live(&ws, "svc").unwrap();
    // v2 runs, but never answers on the port it declares ready.
    service(
        &ws,
        "svc",
        "v2\n",
        "",
        "[run.ready]\nport = 9999\ntimeout = \"2s\"\n",
    );
    let out = ws.fails(&["up", "svc"]);
    assert!(
        out.contains("not ready within 2.0s: port 9999 does not accept connections"),
        "{out}"
    );
    let (id, _, running) = live(&ws, "svc").unwrap();
    assert_eq!((id, running), (old_id, true));
}

#[test]
fn start_first_keeps_serving_throughout_the_replacement() {
    let ws = TestWs::for_services();
    let manifest = "[run]\nreplace = \"start-first\"\n[run.ready]\nport = 8080\nhttp = \"/\"\n";
    service(&ws, "svc", "v1\n", "", manifest);
    ws.ok(&["up", "svc"]);
    // A client on the live network asks for the page every 20 ms, by the node's name, and
    // like a proxy tries a failed GET once more (the old container may stop under it).
    let poller = unique("dktestpoll");
    let out = docker(&[
        "run",
        "-d",
        "--name",
        &poller,
        "--label",
        &format!("dk.workspace={}", ws.id()),
        "--network",
        &format!("{}-live", ws.ns),
        &ws.image("baseline", "latest"),
        "sh",
        "-c",
        "for i in $(seq 1 3000); do timeout 1 wget -q -O- http://svc:8080/ 2>/dev/null || timeout 1 wget -q -O- http://svc:8080/ 2>/dev/null || echo FAIL; sleep 0.02; done",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::thread::sleep(std::time::Duration::from_millis(500));
    service(&ws, "svc", "v2\n", "", manifest);
    let out = ws.ok(&["up", "svc"]);
    assert!(out.contains("start-first, no downtime"), "{out}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let log = stdout(&docker(&["logs", &poller]));
    let _ = docker(&["rm", "-f", &poller]);
    let (v1, v2, fails) = (
        log.matches("v1").count(),
        log.matches("v2").count(),
        log.matches("FAIL").count(),
    );
    assert!(
        v1 > 5 && v2 > 5,
        "it polled before and after: {v1} v1, {v2} v2"
    );
    assert_eq!(fails, 0, "{fails} failed requests:\n{log}");
}

#[test]
fn releases_are_kept_and_any_kept_one_can_go_back_live() {
    let ws = TestWs::for_services();
    let manifest = "[deploy]\nkeep_releases = 2\n";
    for v in ["v1", "v2", "v3"] {
        service(&ws, "svc", &format!("{v}\n"), "", manifest);
        ws.ok(&["up", "svc"]);
    }
    let out = ws.ok(&["history", "svc"]);
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("promote")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].contains("(live)"), "{out}");
    assert!(
        lines[2].contains("not kept"),
        "the oldest beyond 2 is not kept: {out}"
    );
    let tags = stdout(&docker(&[
        "images",
        "--format",
        "{{.Tag}}",
        &format!("{}/svc", ws.ns),
    ]));
    assert_eq!(tags.matches("release-").count(), 2, "{tags}");

    let out = ws.ok(&["rollback", "svc", "--to", "2"]);
    assert!(out.contains("is live again"), "{out}");
    assert_eq!(fetch(&ws, "svc"), "v2\n");
    let err = ws.fails(&["rollback", "svc", "--to", "4"]);
    assert!(err.contains("no longer in the daemon"), "{err}");
    let out = ws.ok(&["history", "svc"]);
    assert!(out.lines().nth(1).unwrap().contains("rollback"), "{out}");
}

#[test]
fn hooks_get_their_environment_and_a_failing_one_rolls_back() {
    let ws = TestWs::for_services();
    ws.write(
        "hooks/record.sh",
        "#!/bin/sh\necho \"$DK_NODE $DK_OUTCOME $DK_OLD_IMAGE $DK_NEW_IMAGE\" >> hooks.out\n",
    );
    ws.write(
        "hooks/smoke.sh",
        "#!/bin/sh\necho smoke test failed for $DK_NEW_IMAGE\nexit 3\n",
    );
    for f in ["hooks/record.sh", "hooks/smoke.sh"] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(ws.path(f), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let record = "[hooks]\nafter_up = [\"hooks/record.sh\"]\n";
    service(&ws, "svc", "v1\n", "", record);
    ws.ok(&["up", "svc"]);
    service(&ws, "svc", "v2\n", "", record);
    ws.ok(&["up", "svc"]);
    let v2 = ws.image_id(&ws.image("svc", "live")).unwrap();
    let lines: Vec<String> = std::fs::read_to_string(ws.path("hooks.out"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("svc created  sha256:"), "{lines:?}");
    assert!(lines[1].starts_with("svc replaced sha256:"), "{lines:?}");
    assert!(lines[1].ends_with(&v2), "{lines:?}");

    // A smoke test that fails after v3 went live rolls it back to v2.
    service(
        &ws,
        "svc",
        "v3\n",
        "",
        "[hooks]\nafter_up = [\"hooks/smoke.sh\"]\nrollback_on_failure = true\ntimeout = \"10s\"\n",
    );
    let out = ws.fails(&["up", "svc"]);
    assert!(
        out.contains("hook after_up `hooks/smoke.sh`: failed"),
        "{out}"
    );
    assert!(out.contains("| smoke test failed for sha256:"), "{out}");
    assert!(out.contains("rolled back from"), "{out}");
    assert_eq!(ws.image_id(&ws.image("svc", "live")).unwrap(), v2);
    assert_eq!(fetch(&ws, "svc"), "v2\n");
}

/// The names of the service's containers (`<ns>-svc`, `-next`, `-old`) and whether each runs.
fn svc_containers(ws: &TestWs) -> Vec<(String, bool)> {
    let out = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("name=^/{}-svc", ws.ns),
        "--format",
        "{{.Names}} {{.State}}",
    ]);
    stdout(&out)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, s)| (n.to_string(), s == "running"))
        .collect()
}

#[test]
fn a_new_container_that_crashes_under_a_restart_policy_never_takes_the_service_down() {
    // The example's own restart policy; v2 exits at once on live data only.
    let ws = TestWs::for_services();
    std::fs::create_dir_all(ws.path("data/svc/conf")).unwrap();
    let manifest =
        format!("[run]\nrestart = {{ policy = \"on-failure\", max_retries = 5 }}\n{LIVE}");
    service(&ws, "svc", "v1\n", "", &manifest);
    ws.ok(&["up", "svc"]);
    let (old_id, ..) = live(&ws, "svc").expect("running");
    service(
        &ws,
        "svc",
        "v2\n",
        "if [ -e /conf/bad ]; then echo cannot parse /conf/bad >&2; exit 3; fi;",
        &manifest,
    );
    ws.write("data/svc/conf/bad", "garbage\n");
    let out = ws.fails(&["up", "svc"]);
    assert!(
        out.contains("exit code 3"),
        "names the crash's exit code: {out}"
    );
    assert!(
        out.contains("cannot parse /conf/bad"),
        "shows its output: {out}"
    );
    assert!(out.contains("full log: "), "{out}");
    assert!(
        out.contains("the old container was put back and runs again"),
        "{out}"
    );
    let (id, _, running) = live(&ws, "svc").expect("the old one is back");
    assert_eq!((id, running), (old_id, true));
    assert_eq!(fetch(&ws, "svc"), "v1\n", "the old one serves");
    assert_eq!(
        svc_containers(&ws),
        vec![(format!("{}-svc", ws.ns), true)],
        "nothing left over"
    );
}

#[test]
fn a_sigkilled_replacement_is_reported_by_status_and_settled_by_the_next_up() {
    let ws = TestWs::for_services();
    let slow = "[run.ready]\nport = 8080\ngrace = \"4s\"\ntimeout = \"20s\"\n";
    service(&ws, "svc", "v1\n", "", slow);
    ws.ok(&["up", "svc"]);
    service(&ws, "svc", "v2\n", "", slow);
    // dk is killed while the new container is in its readiness gate (the old one stopped).
    let mut child = ws
        .process()
        .args(["up", "svc"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let intent = ws.path(".dk/intents/svc.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !std::fs::read_to_string(&intent).is_ok_and(|t| t.contains("\"gating\"")) {
        assert!(
            std::time::Instant::now() < deadline,
            "never reached the gate"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "dk ended before the gate"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let names: Vec<String> = svc_containers(&ws).into_iter().map(|(n, _)| n).collect();
    assert!(
        names.contains(&format!("{}-svc-next", ws.ns)),
        "the kill left the new container: {names:?}"
    );

    // Status reads and says what repairs it; it changes nothing.
    let status = ws.ok(&["status", "svc"]);
    assert!(
        status.contains("interrupted") && status.contains("`dk up svc`"),
        "{status}"
    );
    let check = ws.dk().args(["status", "--check", "svc"]).output().unwrap();
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    assert!(intent.exists(), "status is read-only");

    // The next `dk up` puts the old one back (the new one never became ready), then
    // replaces it properly.
    let out = ws.ok(&["up", "svc"]);
    assert!(out.contains("interrupted replacement"), "{out}");
    assert_eq!(fetch(&ws, "svc"), "v2\n");
    assert_eq!(svc_containers(&ws), vec![(format!("{}-svc", ws.ns), true)]);
    assert!(!intent.exists());
    assert!(ws.ok(&["status", "--check", "svc"]).contains("ok"));
}

#[test]
fn seeded_replacement_chaos_never_takes_the_service_down() {
    let seed: u64 = crate::common::env_number("DK_CHAOS_SEED", 20261204);
    let cases: usize = crate::common::env_number("DK_CHAOS_CASES", 20);
    let ws = TestWs::docker();
    let slot = (std::process::id() % 200 + 20) as u32;
    let rig = crate::deploy_chaos::Rig::new(
        ws.root(),
        &ws.ns,
        slot,
        &crate::common::busybox(),
        &crate::common::dk_path(),
    );
    let t = crate::deploy_chaos::run(&rig, seed, cases, |n, c, r| {
        eprintln!("case {n}: {c:?} -> {r:?}");
    });
    assert!(
        t.violations.is_empty(),
        "seed {seed}: {} violation(s) in {} cases (rerun: DK_CHAOS_SEED={seed}):\n{}",
        t.violations.len(),
        t.cases,
        t.violations.join("\n\n")
    );
    assert_eq!(t.cases, cases);
    eprintln!("{t:?}");
}
