//! Remote daemons: `dk -H NAME` with `[hosts.NAME]` in dk.toml, over ssh:// (a real sshd on
//! 127.0.0.1 in front of this machine's daemon); clear errors for an unknown name and an
//! endpoint that does not answer.

use crate::common::{TestSshd, TestWs, docker, stderr, stdout};

#[test]
fn an_ssh_endpoint_builds_tests_and_runs() {
    let sshd = TestSshd::start();
    let ws = TestWs::for_services();
    ws.container("svc", "FROM baseline\n");
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    let mut toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    toml.push_str(&format!(
        "\n[hosts.remote]\nendpoint = \"ssh://root@{}\"\nidentity = \"{}\"\n",
        sshd.alias,
        sshd.key().display()
    ));
    ws.write("dk.toml", &toml);
    let out = ws
        .dk()
        .args(["-H", "remote", "up", "svc"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let running = docker(&[
        "inspect",
        "--format",
        "{{.State.Running}}",
        &format!("{}-svc", ws.ns),
    ]);
    assert_eq!(stdout(&running).trim(), "true");
    let out = ws
        .dk()
        .args(["-H", "remote", "status", "--check"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    ws.ok(&["-H", "remote", "down", "svc"]);
}

#[test]
fn unknown_hosts_and_silent_endpoints_are_clear_errors() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    let mut toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    toml.push_str("\n[hosts.nas]\nendpoint = \"ssh://root@127.0.0.1\"\n");
    ws.write("dk.toml", &toml);
    let out = ws.dk().args(["-H", "naz", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `nas`?"),
        "{}",
        stderr(&out)
    );
    // Nothing listens on 127.0.0.1:1: the daemon is unreachable (exit 3), said how to check.
    let out = ws
        .dk()
        .args(["-H", "tcp://127.0.0.1:1", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tcp://127.0.0.1:1"),
        "{}",
        stderr(&out)
    );
    let bad = TestWs::empty();
    bad.write("baseline/Dockerfile", "FROM scratch\n");
    let mut toml = std::fs::read_to_string(bad.path("dk.toml")).unwrap();
    toml.push_str("\n[hosts.nas]\nendpoint = \"nas.local\"\n");
    bad.write("dk.toml", &toml);
    let out = bad.dk().args(["ls"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("hosts.nas.endpoint"),
        "{}",
        stderr(&out)
    );
}
