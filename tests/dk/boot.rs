//! Boot: after the daemon restarts (as at a reboot), `dk start --all` (what the unit of
//! `dk systemd` runs) brings the autostart containers back in their start waves. Run on a
//! second daemon of the test's own, never the machine's.

use crate::common::{SecondDaemon, TestWs, stderr, stdout};

#[test]
fn autostart_containers_come_back_in_waves_after_the_daemon_restarts() {
    let mut daemon = SecondDaemon::start();
    let ws = TestWs::for_services();
    // Services that end cleanly on SIGTERM, as well-behaved daemons do: Docker's
    // `on-failure` policy then leaves them stopped after the daemon restarts.
    let service = |name: &str, manifest: &str| {
        ws.container(
            name,
            "FROM baseline\nCMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; while :; do sleep 1; done\"]\n",
        );
        ws.write(
            &format!("containers/{name}/.dockerignore"),
            "container.toml\n",
        );
        ws.write(&format!("containers/{name}/container.toml"), manifest);
    };
    let waive = "[[audit.waive]]\nrule = \"entrypoint-form\"\nreason = \"the fixture traps TERM in a shell\"\n";
    service("db", &format!("autostart = true\n{waive}"));
    service(
        "app",
        &format!("autostart = true\nafter = [\"db\"]\n{waive}"),
    );
    service("manual", waive);
    let host = daemon.host();
    let dk = |args: &[&str]| {
        let out = ws
            .dk()
            .env("DOCKER_HOST", &host)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dk {args:?}:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    };
    dk(&["up"]);
    dk(&["build", "manual"]);
    let state = |d: &SecondDaemon, node: &str| {
        let out = d.docker(&[
            "inspect",
            "--format",
            "{{.State.Running}} {{.State.StartedAt}}",
            &format!("{}-{node}", ws.ns),
        ]);
        stdout(&out).trim().to_string()
    };
    assert!(state(&daemon, "app").starts_with("true"));

    daemon.restart();
    // Docker by itself brings back neither (the default policy is on-failure).
    for node in ["db", "app"] {
        assert!(
            state(&daemon, node).starts_with("false"),
            "{node}: {}",
            state(&daemon, node)
        );
    }

    // The unit's command.
    let out = dk(&["start", "--all"]);
    for node in ["db", "app"] {
        assert!(
            state(&daemon, node).starts_with("true"),
            "{node} is back:\n{out}"
        );
    }
    assert_eq!(
        state(&daemon, "manual"),
        "",
        "not autostart, never live: not started"
    );
    // In waves: app (after db) started once db was up.
    let started = |node: &str| {
        state(&daemon, node)
            .split(' ')
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        started("db") <= started("app"),
        "db {} app {}",
        started("db"),
        started("app")
    );
    let out = dk(&["status", "--check"]);
    assert!(out.contains("ok: 2 container(s) up"), "{out}");
}
