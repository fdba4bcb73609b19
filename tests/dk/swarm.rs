//! Swarm as the deploy target: a daemon of the test's own (in its network namespace) made a
//! single-node swarm, a registry listening on that namespace's loopback. `dk up` creates
//! the service by registry digest, a no-op `dk up` sends no update, a change rolls out, a
//! live-only broken image is rolled back by Swarm while the old tasks keep serving, and
//! `dk rollback` / `dk down` drive the service.

use crate::common::{SecondDaemon, TestRegistry, TestWs, stderr, stdout};

/// A busybox httpd service that first fails when `/conf/bad` exists (only the live data
/// has it: its tests get an empty copy), with a healthcheck Swarm gates the rollout on.
fn service(ws: &TestWs, page: &str) {
    ws.container(
        "svc",
        "FROM baseline\nCOPY www /www\nCMD [\"sh\", \"-c\", \"if [ -e /conf/bad ]; then echo cannot parse /conf/bad >&2; exit 1; fi; exec httpd -f -p 8080 -h /www\"]\n",
    );
    ws.write("containers/svc/www/index.html", page);
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    ws.write(
        "containers/svc/container.toml",
        "[deploy]\nreplicas = 2\n\n[[secret]]\nname = \"token\"\nfile = \"secrets/token\"\n\n[[mount]]\nkind = \"persistent_test_copy\"\nsource = \"conf\"\ntarget = \"/conf\"\n\n[run.healthcheck]\ncommand = [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/\"]\ninterval = \"1s\"\nretries = 2\n\n[run.ready]\ngrace = \"2s\"\n\n[[audit.waive]]\nrule = \"entrypoint-form\"\nreason = \"the fixture checks its config in a shell first\"\n",
    );
}

const SECRET_1: &str = "first-s3cret-never-shown";
const SECRET_2: &str = "second-s3cret-never-shown";

struct Swarm {
    daemon: SecondDaemon,
    registry: TestRegistry,
    ws: TestWs,
}

impl Swarm {
    fn start() -> Swarm {
        let daemon = SecondDaemon::start();
        daemon.swarm_init();
        let registry = TestRegistry::start_in(Some(daemon.netns()), None);
        let ws = TestWs::for_services();
        std::fs::create_dir_all(ws.path("data/svc/conf")).unwrap();
        ws.write("secrets/token", SECRET_1);
        let mut toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
        toml.push_str(&format!(
            "\n[deploy]\ntarget = \"swarm\"\n\n[[registry]]\nurl = \"{}\"\n",
            registry.url()
        ));
        ws.write("dk.toml", &toml);
        ws.write("docker-config/config.json", "{}\n");
        Swarm {
            daemon,
            registry,
            ws,
        }
    }

    fn dk(&self, args: &[&str]) -> std::process::Output {
        self.ws
            .dk()
            .env("DOCKER_HOST", self.daemon.host())
            .env("DOCKER_CONFIG", self.ws.path("docker-config"))
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.dk(args);
        let all = self.shown(&out);
        assert!(out.status.success(), "dk {args:?}:\n{all}");
        all
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.dk(args);
        let all = self.shown(&out);
        assert!(!out.status.success(), "dk {args:?} should fail:\n{all}");
        all
    }

    /// What dk printed, which never holds a secret.
    fn shown(&self, out: &std::process::Output) -> String {
        let all = format!("{}{}", stdout(out), stderr(out));
        assert!(
            !all.contains(SECRET_1) && !all.contains(SECRET_2),
            "a secret was printed:\n{all}"
        );
        all
    }

    /// The secret as the service's tasks read it.
    fn secret(&self) -> String {
        let out = self.daemon.docker(&[
            "exec",
            &self.task_containers()[0],
            "cat",
            "/run/secrets/token",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    }

    /// The names of the workspace's Swarm secrets.
    fn secrets(&self) -> Vec<String> {
        let out = self.daemon.docker(&[
            "secret",
            "ls",
            "--format",
            "{{.Name}}",
            "--filter",
            &format!("label=dk.workspace={}", self.ws.id()),
        ]);
        stdout(&out).split_whitespace().map(String::from).collect()
    }

    fn name(&self) -> String {
        format!("{}-svc", self.ws.ns)
    }

    /// `docker service inspect` of the service: (version, image).
    fn inspect(&self) -> (u64, String) {
        let out = self.daemon.docker(&[
            "service",
            "inspect",
            "--format",
            "{{.Version.Index}} {{.Spec.TaskTemplate.ContainerSpec.Image}}",
            &self.name(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = stdout(&out);
        let (v, image) = s.trim().split_once(' ').unwrap();
        (v.parse().unwrap(), image.to_string())
    }

    /// The running containers of the service's tasks, sorted.
    fn task_containers(&self) -> Vec<String> {
        let out = self.daemon.docker(&[
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.swarm.service.name={}", self.name()),
        ]);
        let mut ids: Vec<String> = stdout(&out).split_whitespace().map(String::from).collect();
        ids.sort();
        ids
    }

    /// The containers of the two tasks once the old ones of a finished rollout are gone
    /// (Swarm stops them after reporting the update completed); bounded.
    fn settled(&self) -> Vec<String> {
        for _ in 0..100 {
            let ids = self.task_containers();
            if ids.len() == 2 {
                return ids;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        panic!(
            "not two task containers after 20 s: {:?}",
            self.task_containers()
        );
    }

    /// The page the service serves, asked by its node name on the overlay from inside one of
    /// its own tasks (DNS round robin: either task may answer).
    fn fetch(&self) -> String {
        let ids = self.task_containers();
        let out = self.daemon.docker(&[
            "exec",
            &ids[0],
            "timeout",
            "5",
            "wget",
            "-q",
            "-O-",
            "http://svc:8080/",
        ]);
        assert!(out.status.success(), "fetch: {}", stderr(&out));
        stdout(&out)
    }
}

#[test]
fn services_roll_out_by_digest_and_swarm_rolls_back_a_broken_image() {
    let s = Swarm::start();
    service(&s.ws, "v1\n");
    let out = s.ok(&["up", "svc"]);
    assert!(out.contains("svc: created"), "{out}");
    let (v1, image1) = s.inspect();
    let repo = format!("{}/{}/svc@sha256:", s.registry.url(), s.ws.ns);
    assert!(image1.starts_with(&repo), "by registry digest: {image1}");
    assert_eq!(s.settled().len(), 2, "two replicas");
    assert_eq!(s.fetch(), "v1\n");
    assert_eq!(s.secret(), SECRET_1, "the secret is a file of the tasks");
    assert_eq!(s.secrets().len(), 1, "{:?}", s.secrets());
    let status = s.ok(&["status", "svc"]);
    assert!(status.contains("service 2/2 running"), "{status}");

    // Nothing changed: no update is sent to Swarm.
    let out = s.ok(&["up", "svc"]);
    assert!(!out.contains("rolled out"), "{out}");
    assert_eq!(
        s.inspect().0,
        v1,
        "a no-op up leaves the service version alone"
    );

    // A change rolls out through Swarm, task by task.
    service(&s.ws, "v2\n");
    let out = s.ok(&["up", "svc"]);
    assert!(out.contains("svc: replaced"), "{out}");
    let (_, image2) = s.inspect();
    assert!(image2.starts_with(&repo) && image2 != image1, "{image2}");
    assert_eq!(s.fetch(), "v2\n");
    let serving = s.settled();

    // v3 passes its tests but cannot start on the live data: Swarm rolls it back, and the
    // v2 tasks were never stopped.
    service(&s.ws, "v3\n");
    s.ws.write("data/svc/conf/bad", "garbage\n");
    let out = s.fails(&["up", "svc"]);
    assert!(out.contains("1 passed"), "v3 passed its tests: {out}");
    assert!(out.contains("Swarm rolled the update back"), "{out}");
    assert_eq!(s.inspect().1, image2, "the service is back on v2");
    assert_eq!(s.task_containers(), serving, "the old tasks kept serving");
    assert_eq!(s.fetch(), "v2\n");
    // Remembered, like a failed live start.
    let out = s.fails(&["up", "svc"]);
    assert!(out.contains("not tried again"), "{out}");

    // Fixed outside dk: it goes out.
    std::fs::remove_file(s.ws.path("data/svc/conf/bad")).unwrap();
    let out = s.ok(&["up", "--retry", "svc"]);
    assert!(out.contains("svc: replaced"), "{out}");
    assert_eq!(s.fetch(), "v3\n");

    // A changed secret is a new Swarm secret (versioned by content), rolled out; the
    // previous version stays while the previous spec (a rollback) needs it.
    s.ws.write("secrets/token", SECRET_2);
    let out = s.ok(&["up", "svc"]);
    assert!(out.contains("svc: replaced"), "{out}");
    s.settled();
    assert_eq!(s.secret(), SECRET_2);
    let inspect = stdout(&s.daemon.docker(&["service", "inspect", &s.name()]));
    assert!(
        !inspect.contains(SECRET_2),
        "not in the service's spec or labels"
    );
    assert_eq!(s.secrets().len(), 2, "{:?}", s.secrets());

    // dk rollback: Swarm's previous spec first (v3 with the first secret, which was kept
    // for it), then the service is converged to the release now live (v2), with the
    // secret of today.
    let out = s.ok(&["rollback", "svc"]);
    assert!(!out.contains("failed"), "{out}");
    assert_eq!(s.inspect().1, image2);
    s.settled();
    assert_eq!(s.fetch(), "v2\n");
    assert_eq!(s.secret(), SECRET_2);

    // Swarm keeps services running: stop says how to remove it; down (--all) does.
    let out = s.fails(&["stop", "svc"]);
    assert!(out.contains("dk down svc"), "{out}");
    s.ok(&["down", "--all"]);
    let out = s.daemon.docker(&["service", "ls", "-q"]);
    assert_eq!(stdout(&out).trim(), "", "no service is left");
    assert_eq!(s.secrets(), Vec::<String>::new(), "nor a secret");
}

#[test]
fn a_daemon_that_is_no_swarm_manager_is_a_clear_error() {
    let daemon = SecondDaemon::start();
    let ws = TestWs::for_services();
    ws.container("svc", "FROM baseline\n");
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    ws.write(
        "containers/svc/container.toml",
        "[deploy]\ntarget = \"swarm\"\n",
    );
    let mut toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    toml.push_str("\n[[registry]]\nurl = \"127.0.0.1:1\"\n");
    ws.write("dk.toml", &toml);
    let out = ws
        .dk()
        .env("DOCKER_HOST", daemon.host())
        .args(["up", "svc"])
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("not a manager of a swarm") && all.contains("docker swarm init"),
        "{all}"
    );
    assert_eq!(
        stdout(&daemon.docker(&["ps", "-aq", "--filter", "label=dk.role=live"])).trim(),
        "",
        "no container was started instead"
    );
}
