//! Day-two operations: jobs, exec and shells, `test --keep`, `status --check`, logs,
//! pruning, completions and the boot unit.

use crate::common::{TestWs, docker, stderr, stdout};

/// An always-up busybox service on the baseline with `manifest`.
fn service(ws: &TestWs, name: &str, dockerfile_tail: &str, manifest: &str) {
    ws.container(name, &format!("FROM baseline\n{dockerfile_tail}"));
    ws.write(
        &format!("containers/{name}/.dockerignore"),
        "container.toml\n",
    );
    ws.write(&format!("containers/{name}/container.toml"), manifest);
}

/// (container id, started at) of a live container.
fn live(ws: &TestWs, node: &str) -> String {
    let out = docker(&[
        "inspect",
        "--format",
        "{{.Id}} {{.State.StartedAt}} {{.State.Running}}",
        &format!("{}-{node}", ws.ns),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

#[test]
fn jobs_pass_their_exit_code_and_args_use_live_data_and_never_touch_the_service() {
    let ws = TestWs::for_services();
    std::fs::create_dir_all(ws.path("data/svc/state")).unwrap();
    service(
        &ws,
        "svc",
        "",
        r#"[[mount]]
kind = "persistent"
source = "state"
target = "/state"

[job.report]
description = "writes a report into the live data"
command = ["sh", "-c", "echo \"args: $*\"; echo done > /state/report; exit 3", "job"]
env = { WHO = "job" }
"#,
    );
    // The data directory must be writable by the image's user (uid 1000).
    std::os::unix::fs::chown(ws.path("data/svc/state"), Some(1000), Some(1000)).unwrap();
    ws.ok(&["up", "svc"]);
    let before = live(&ws, "svc");

    let out = ws
        .dk()
        .args(["run", "svc:report", "--", "a", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "args: a b\n");
    assert_eq!(
        std::fs::read_to_string(ws.path("data/svc/state/report")).unwrap(),
        "done\n",
        "a job works on the live data"
    );
    // Without a job: the arguments are the command; exit 0 passes through too, and the job
    // has the live env and runs as the image's user.
    let out = ws
        .dk()
        .args(["run", "s", "--", "sh", "-c", "echo $WHO $(id -u); exit 0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "1000\n");
    // The job's stdin is the caller's.
    let out = ws
        .dk()
        .args(["run", "svc", "--", "sh", "-c", "read line; echo got $line"])
        .write_stdin("hello\n")
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "got hello\n", "{}", stderr(&out));

    assert_eq!(
        live(&ws, "svc"),
        before,
        "the service container was not touched"
    );
    assert!(ws.containers("job").is_empty(), "jobs are removed");

    // A job that does not exist: exit 2, with the jobs it has.
    let out = ws.dk().args(["run", "svc:reprot"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `svc:report`?"),
        "{}",
        stderr(&out)
    );
    // A job before anything went live: says how to get an image.
    service(&ws, "other", "", "");
    let out = ws.dk().args(["run", "other"]).output().unwrap();
    assert!(stderr(&out).contains("dk up other"), "{}", stderr(&out));
}

#[test]
fn exec_passes_the_exit_code_and_runs_as_root_only_when_asked() {
    let ws = TestWs::for_services();
    service(&ws, "svc", "", "");
    ws.ok(&["up", "svc"]);
    let run = |args: &[&str]| ws.dk().args(args).output().unwrap();
    let out = run(&["exec", "svc", "--", "id", "-u"]);
    assert_eq!(stdout(&out), "1000\n", "{}", stderr(&out));
    let out = run(&["exec", "--root", "svc", "--", "id", "-u"]);
    assert_eq!(stdout(&out), "0\n", "{}", stderr(&out));
    let out = run(&["exec", "svc", "--", "sh", "-c", "exit 5"]);
    assert_eq!(out.status.code(), Some(5));
    // `dk shell` reads its commands from input that is not a terminal.
    let out = ws
        .dk()
        .args(["shell", "--root", "svc"])
        .write_stdin("id -u\n")
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "0\n", "{}", stderr(&out));
    // A stopped service: clear error, the next step.
    ws.ok(&["stop", "svc"]);
    let out = run(&["exec", "svc", "--", "true"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("dk start svc"), "{}", stderr(&out));
}

#[test]
fn a_shell_in_an_image_whose_entrypoint_is_not_a_shell() {
    let ws = TestWs::for_services();
    service(&ws, "app", "ENTRYPOINT [\"sleep\"]\nCMD [\"600\"]\n", "");
    ws.ok(&["build", "app"]);
    let out = ws
        .dk()
        .args(["shell", "app", "--image", "latest"])
        .write_stdin(
            "echo in-shell $(id -u); ls /sys/class/net; touch /x 2>/dev/null || echo read-only\n",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "in-shell 1000\nlo\nread-only\n",
        "no network, read-only"
    );
    // A command instead of the shell, as root; an id prefix works as the image.
    let id = ws.image_id(&ws.image("app", "latest")).unwrap();
    let out = ws
        .dk()
        .args([
            "shell",
            "app",
            "--root",
            "--image",
            &id[7..19],
            "--",
            "id",
            "-u",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "0\n", "{}", stderr(&out));
    assert!(
        ws.containers("job").is_empty(),
        "throwaway containers are removed"
    );
    // An image that is not there: says how to get one.
    let out = ws
        .dk()
        .args(["shell", "app", "--image", "live"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("dk up app"), "{}", stderr(&out));
}

#[test]
fn test_keep_keeps_a_failing_test_container_and_the_next_test_removes_it() {
    let ws = TestWs::for_services();
    service(
        &ws,
        "bad",
        "",
        "[[mount]]\nkind = \"persistent\"\nsource = \"db\"\ntarget = \"/db\"\n\n[[test.check]]\nname = \"wants a file that is not there\"\nfile = \"/nope\"\n",
    );
    service(&ws, "good", "", "");
    let out = ws.fails(&["test", "--keep", "bad"]);
    assert!(out.contains("kept for inspection"), "{out}");
    assert!(
        out.contains(&format!("docker exec -it {}-test-bad sh", ws.ns)),
        "{out}"
    );
    assert_eq!(ws.containers("test").len(), 1, "kept");
    let copies = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(ws.path(".dk/tmp"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .unwrap()
                            .to_string_lossy()
                            .starts_with("test-bad-")
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(copies().len(), 1, "its mount copies are kept");
    assert!(out.contains(".dk/tmp/test-bad-"), "{out}");
    // The next `dk test`, of anything, removes them first.
    ws.ok(&["test", "good"]);
    assert!(ws.containers("test").is_empty(), "swept");
    assert!(copies().is_empty());
    // Without --keep, a failure leaves nothing.
    ws.fails(&["test", "bad"]);
    assert!(ws.containers("test").is_empty());
}

#[test]
fn status_check_is_1_while_an_autostart_container_is_down_and_0_after_start() {
    let ws = TestWs::for_services();
    service(&ws, "a", "", "autostart = true\n");
    service(&ws, "b", "", "autostart = true\nafter = [\"a\"]\n");
    service(&ws, "manual", "", "");
    ws.ok(&["up"]);
    let out = ws.ok(&["status", "--check"]);
    assert!(out.contains("ok: 2 container(s) up"), "{out}");
    docker(&["stop", "-t", "1", &format!("{}-b", ws.ns)]);
    let out = ws.fails(&["status", "--check"]);
    assert!(
        out.contains("b: exited") && out.contains("dk start b"),
        "{out}"
    );
    assert!(!out.contains("a:") && !out.contains("manual"), "{out}");
    let json = ws
        .dk()
        .args(["status", "--check", "--json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["name"], "b");
    ws.ok(&["start", "b"]);
    ws.ok(&["status", "--check"]);
}

#[test]
fn logs_since_and_with_timestamps() {
    let ws = TestWs::for_services();
    service(
        &ws,
        "talk",
        "CMD [\"sh\", \"-c\", \"echo first; exec sleep 600\"]\n",
        "[[audit.waive]]\nrule = \"entrypoint-form\"\nreason = \"the fixture prints first\"\n",
    );
    ws.ok(&["up", "talk"]);
    let out = ws.ok(&["logs", "talk", "--timestamps"]);
    let line = out.lines().next().unwrap_or_default();
    assert!(
        line.len() > 20
            && line.as_bytes()[4] == b'-'
            && line.contains('T')
            && line.ends_with(" first"),
        "{out}"
    );
    assert_eq!(ws.ok(&["logs", "talk", "--since", "1d"]), "first\n");
    let future = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    assert_eq!(ws.ok(&["logs", "talk", "--since", &future]), "");
    let out = ws
        .dk()
        .args(["logs", "talk", "--since", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("give a duration"), "{}", stderr(&out));
}

#[test]
fn prune_keeps_what_a_tag_or_container_needs_and_removes_an_orphaned_build() {
    let ws = TestWs::for_services();
    service(&ws, "p", "COPY v /v\n", "");
    let version = |v: &str| ws.write("containers/p/v", v);
    version("1");
    ws.ok(&["up", "p"]);
    let v1 = ws.image_id(&ws.image("p", "live")).unwrap();
    version("2");
    ws.ok(&["up", "p"]);
    let v2 = ws.image_id(&ws.image("p", "live")).unwrap();
    version("3");
    ws.ok(&["build", "p"]);
    let v3 = ws.image_id(&ws.image("p", "latest")).unwrap();
    version("4");
    ws.ok(&["build", "p"]);
    let v4 = ws.image_id(&ws.image("p", "latest")).unwrap();
    // Another workspace's orphan must survive.
    let other = TestWs::for_services();
    service(&other, "q", "COPY v /v\n", "");
    other.write("containers/q/v", "1");
    other.ok(&["build", "q"]);
    let foreign = other.image_id(&other.image("q", "latest")).unwrap();
    other.write("containers/q/v", "2");
    other.ok(&["build", "q"]);

    let exists = |id: &str| docker(&["image", "inspect", id]).status.success();
    let out = ws.ok(&["prune", "--dry-run"]);
    assert!(
        out.contains(&format!("would remove {}", &v3[7..19])),
        "{out}"
    );
    assert!(out.contains("would remove 1 image(s)"), "{out}");
    assert!(exists(&v3), "a dry run removes nothing");

    let out = ws.ok(&["prune"]);
    assert!(out.contains(&format!("removed {}", &v3[7..19])), "{out}");
    assert!(out.contains("of dangling build cache"), "{out}");
    assert!(!exists(&v3), "the orphaned build is gone");
    for (what, id) in [
        ("prev", &v1),
        ("live", &v2),
        ("latest", &v4),
        ("another workspace's", &foreign),
    ] {
        assert!(exists(id), "{what} image kept:\n{out}");
    }
    // Nothing left to prune.
    let out = ws.ok(&["prune"]);
    assert!(out.contains("removed 0 image(s)"), "{out}");
}

#[test]
fn completions_name_the_workspace_s_nodes() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    ws.container("webapp", "FROM baseline\n");
    ws.container("worker", "FROM baseline\n");
    let script = ws.ok(&["completions", "bash"]);
    std::fs::write(ws.path("dk.bash"), &script).unwrap();
    let dk = crate::common::dk_path();
    let path = format!(
        "{}:{}",
        dk.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let complete = |words: &str| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source dk.bash; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); _dk_with_names dk \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\""
            ))
            .current_dir(ws.root())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(complete("dk up w"), "webapp\nworker\n");
    assert_eq!(complete("dk logs we"), "webapp\n");
    assert_eq!(complete("dk run wo"), "worker\n");
    assert!(complete("dk gr").contains("graph"), "verbs still complete");
    assert!(
        !complete("dk graph w").contains("webapp"),
        "graph takes no names"
    );
    for shell in ["zsh", "fish"] {
        let s = ws.ok(&["completions", shell]);
        assert!(s.contains("dk ls --names"), "{shell}:\n{s}");
    }
    assert!(ws.ok(&["completions", "zsh"]).contains(":_dk_node_names'"));
}

#[test]
fn the_systemd_unit_starts_the_workspace_after_docker() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    let root = ws.root().canonicalize().unwrap();
    let unit = ws.ok(&["systemd"]);
    assert!(unit.contains("After=docker.service"), "{unit}");
    assert!(
        unit.contains(&format!("-C {} start --all", root.display())),
        "{unit}"
    );
    let dir = ws.path("units");
    let out = ws.ok(&["systemd", "--install", "--unit-dir", dir.to_str().unwrap()]);
    let file = dir.join(format!("dk-{}.service", ws.ns));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), unit);
    assert!(
        out.contains(&format!("systemctl enable dk-{}.service", ws.ns)),
        "{out}"
    );
}
