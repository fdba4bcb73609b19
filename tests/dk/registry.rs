//! Registries: `dk push` to two of them (one with htpasswd auth), verified by digest and
//! pulled back; credentials never shown; a refused push moves `live` nowhere;
//! `push = "on-promote"` pushes what `dk up` promotes; `[build] registry_cache` lets a
//! builder with an empty cache take from the registry the steps it has.

use crate::common::{SecondDaemon, TestRegistry, TestWs, docker, stderr, stdout};

const USER: &str = "dkuser";
const PASS: &str = "pa55-never-printed";

/// A workspace with a service and the registries in dk.toml, and a Docker config (its own,
/// through DOCKER_CONFIG) holding the credentials of the auth registry.
fn setup(registries: &[(&TestRegistry, &str)], password: &str) -> TestWs {
    let ws = TestWs::for_services();
    ws.container("svc", "FROM baseline\n");
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    let mut toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    for (r, push) in registries {
        toml.push_str(&format!(
            "\n[[registry]]\nurl = \"{}\"\npush = \"{push}\"\n",
            r.url()
        ));
    }
    ws.write("dk.toml", &toml);
    let auth = base64(&format!("{USER}:{password}"));
    let auths: Vec<String> = registries
        .iter()
        .map(|(r, _)| format!("\"{}\": {{\"auth\": \"{auth}\"}}", r.url()))
        .collect();
    ws.write(
        "docker-config/config.json",
        &format!("{{\"auths\": {{{}}}}}", auths.join(", ")),
    );
    ws
}

fn base64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn dk(ws: &TestWs, args: &[&str]) -> std::process::Output {
    ws.dk()
        .env("DOCKER_CONFIG", ws.path("docker-config"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn push_to_two_registries_verified_by_digest_and_pulled_back() {
    let open = TestRegistry::start(None);
    let locked = TestRegistry::start(Some((USER, PASS)));
    let ws = setup(&[(&open, "manual"), (&locked, "manual")], PASS);
    let out = dk(&ws, &["up", "svc"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let live = ws.image_id(&ws.image("svc", "live")).unwrap();
    let out = dk(&ws, &["push", "svc"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{o}\n{e}");
    assert!(
        !o.contains(PASS) && !e.contains(PASS),
        "the secret is never shown"
    );
    let repo = format!("{}/svc", ws.ns);
    for (r, auth) in [(&open, None), (&locked, Some(format!("{USER}:{PASS}")))] {
        let line = o
            .lines()
            .find(|l| l.contains(&format!("pushed {}/{repo}@sha256:", r.url())))
            .unwrap_or_else(|| panic!("{} in:\n{o}", r.url()));
        let reference = line.split_whitespace().nth(2).unwrap();
        let mut tags = r.tags(&repo, auth.as_deref());
        tags.sort();
        assert!(
            tags.contains(&"live".to_string()) && tags.len() == 2,
            "{tags:?}"
        );
        // Pulled back by digest, it is the same image.
        let pull = docker(&["pull", "-q", reference]);
        assert!(pull.status.success() || auth.is_some(), "{}", stderr(&pull));
        if auth.is_none() {
            let id = ws.image_id(reference).unwrap();
            assert_eq!(id, live, "the pushed digest is the live image");
        }
    }
    // Recorded, without the secret; the local registry tags are gone again.
    let records = std::fs::read_dir(ws.path(".dk/records/pushes/svc"))
        .unwrap()
        .count();
    assert_eq!(records, 2);
    for e in walkdir::WalkDir::new(ws.path(".dk"))
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
    {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        assert!(
            !text.contains(PASS),
            "{} holds the secret",
            e.path().display()
        );
    }
    // (The test's own pull by digest leaves a `<none>` entry; dk's tags are gone.)
    let images = stdout(&docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]));
    let left: Vec<&str> = images
        .lines()
        .filter(|l| l.starts_with(&format!("{}/{repo}:", open.url())) && !l.ends_with(":<none>"))
        .collect();
    assert!(left.is_empty(), "dk's push tags stay: {left:?}");
    let status = stdout(&dk(&ws, &["status", "svc"]));
    assert!(status.contains("live image pushed as"), "{status}");
}

#[test]
fn a_wrong_password_is_a_clear_error_and_live_moves_nowhere() {
    let open = TestRegistry::start(None);
    let locked = TestRegistry::start(Some((USER, PASS)));
    let ws = setup(&[(&open, "manual"), (&locked, "manual")], "wrong-password");
    assert!(dk(&ws, &["up", "svc"]).status.success());
    let out = dk(&ws, &["push"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains(&locked.url()) && e.contains(&format!("docker login {}", locked.url())),
        "{e}"
    );
    assert!(e.contains("`live` was moved in no registry"), "{e}");
    assert!(!e.contains("wrong-password"), "{e}");
    let tags = open.tags(&format!("{}/svc", ws.ns), None);
    assert!(
        !tags.contains(&"live".to_string()),
        "live moved in the other registry: {tags:?}"
    );
}

#[test]
fn on_promote_pushes_what_up_promotes() {
    let open = TestRegistry::start(None);
    let ws = setup(&[(&open, "on-promote")], PASS);
    let out = dk(&ws, &["up", "svc"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("svc: pushed {}/{}/svc@sha256:", open.url(), ws.ns)),
        "{}",
        stdout(&out)
    );
    // Nothing promoted, nothing pushed.
    let out = dk(&ws, &["up", "svc"]);
    assert!(!stdout(&out).contains("pushed"), "{}", stdout(&out));
}

#[test]
fn a_builder_with_an_empty_cache_takes_from_the_registry_the_tested_images_and_steps_it_has() {
    // A daemon of the test's own, whose build cache the test may empty, and a registry on
    // its namespace's loopback (BuildKit reads a loopback registry over plain HTTP).
    let daemon = SecondDaemon::start();
    let registry = TestRegistry::start_in(Some(daemon.netns()), None);
    let ws = TestWs::for_services();
    ws.write(
        "dk.toml",
        &format!(
            "{}\n[build]\nregistry_cache = true\n\n[[registry]]\nurl = \"{}\"\n",
            std::fs::read_to_string(ws.path("dk.toml")).unwrap(),
            registry.url()
        ),
    );
    ws.write("docker-config/config.json", "{}\n");
    // A step whose output differs each time it really runs.
    ws.container(
        "svc",
        "FROM baseline\nUSER 0:0\nRUN head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /marker\nUSER 1000:1000\n",
    );
    ws.write("containers/svc/.dockerignore", "container.toml\n");
    let dk = |args: &[&str]| {
        let out = ws
            .dk()
            .env("DOCKER_HOST", daemon.host())
            .env("DOCKER_CONFIG", ws.path("docker-config"))
            .args(args)
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(out.status.success(), "dk {args:?}: {all}");
        all
    };
    // Built, tested and promoted (no live container holds the image).
    dk(&["test", "baseline", "svc"]);
    dk(&["promote", "baseline", "svc"]);
    // Every node's :live (the baseline's too) goes to the registry with its cache inline.
    dk(&["push"]);
    let marker = |tag: &str| {
        let out = daemon.docker(&[
            "run",
            "--rm",
            "--entrypoint",
            "cat",
            &format!("{}/svc:{tag}", ws.ns),
            "/marker",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).trim().to_string()
    };
    let built = marker("live");
    assert_eq!(built.len(), 16, "{built}");
    // The builder forgets everything: its cache and the workspace's images.
    let forget = || {
        let out = daemon.docker(&["builder", "prune", "-af"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let images = daemon.docker(&[
            "images",
            "-q",
            "--filter",
            &format!("reference={}/*", ws.ns),
        ]);
        for id in stdout(&images).split_whitespace() {
            let _ = daemon.docker(&["rmi", "-f", id]);
        }
    };
    let live_id = |tag: &str| {
        let out = daemon.docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{}/svc:{tag}", ws.ns),
        ]);
        stdout(&out).trim().to_string()
    };
    let tested = live_id("live");
    // Same inputs: the registry's tested image is taken whole, with its test record, and
    // the records of the first builds are gone too (another checkout).
    forget();
    std::fs::remove_dir_all(ws.path(".dk/records")).unwrap();
    let out = dk(&["build", "svc"]);
    assert!(
        out.contains(&format!("baseline: build taken from {} (", registry.url()))
            && out.contains(&format!("svc: build taken from {} (", registry.url()))
            && out.contains("with the test record it passed"),
        "{out}"
    );
    assert_eq!(live_id("latest"), tested, "the tested image itself");
    let out = dk(&["test", "svc"]);
    assert!(out.contains("1 passed earlier"), "{out}");
    // A later step changed: built, and BuildKit takes the earlier step from the registry's
    // inline cache.
    ws.append("containers/svc/Dockerfile", "COPY note /note\n");
    ws.write("containers/svc/note", "a later step\n");
    forget();
    let out = dk(&["build", "svc"]);
    assert!(out.contains("svc: build built"), "{out}");
    assert_eq!(marker("latest"), built, "the step came from the registry");
    // Without the registry's cache, the step runs again (the check above can fail).
    forget();
    ws.write(
        "dk.toml",
        &std::fs::read_to_string(ws.path("dk.toml"))
            .unwrap()
            .replace("registry_cache = true", "registry_cache = false"),
    );
    dk(&["build", "svc"]);
    assert_ne!(marker("latest"), built, "a cold builder runs the step");
}
