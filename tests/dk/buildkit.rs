//! BuildKit through the daemon: cache mounts, build secrets, labels without a step, parents
//! resolved from the local store, the classic opt-out, and what the daemon's frontend or the
//! chosen builder cannot build (exit 2 with file:line, before anything is sent).

use crate::common::{RecordingProxy, TestWs, docker, stderr, stdout, unique};

/// The output of `cmd` run in a throw-away container of `image` (labelled, removed).
fn run_in(image: &str, cmd: &[&str]) -> String {
    let name = unique("dktestrun");
    let mut args = vec![
        "run",
        "--rm",
        "--name",
        &name,
        "--label",
        "dk.test=1",
        "--network",
        "none",
        image,
    ];
    args.extend_from_slice(cmd);
    let out = docker(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn a_cache_mount_persists_between_builds_and_clean_build_cache_prunes_it() {
    let ws = TestWs::with_baseline();
    // An id of its own, so that parallel tests never share the cache.
    let id = unique("dkcache");
    ws.container(
        "cached",
        &format!(
            "FROM baseline\nCOPY stamp /stamp\nRUN --mount=type=cache,target=/cache,id={id} sh -c 'cat /cache/seen > /seen-before 2>/dev/null; cat /stamp >> /cache/seen'\n"
        ),
    );
    ws.write("containers/cached/stamp", "one\n");
    ws.ok(&["build", "cached"]);
    let image = ws.image("cached", "latest");
    assert_eq!(run_in(&image, &["cat", "/seen-before"]), "");
    // A change reruns the step: it sees what the first build left in the cache.
    ws.write("containers/cached/stamp", "two\n");
    ws.ok(&["build", "cached"]);
    assert_eq!(run_in(&image, &["cat", "/seen-before"]), "one\n");

    let out = ws.ok(&["clean", "--build-cache", "cached"]);
    assert!(out.contains("build cache: freed"), "{out}");
    assert!(ws.image_id(&image).is_some(), "images are never pruned");
    ws.ok(&["build", "--force", "cached"]);
    assert_eq!(
        run_in(&image, &["cat", "/seen-before"]),
        "",
        "the cache mount was pruned"
    );
}

#[test]
fn a_build_secret_never_reaches_the_image_its_history_the_output_or_the_records() {
    let ws = TestWs::with_baseline();
    let secret = unique("s3cr3t-value-");
    let env_secret = unique("env-s3cr3t-");
    ws.write("secrets/token", &secret);
    ws.container(
        "uses",
        "FROM baseline\nRUN --mount=type=secret,id=token --mount=type=secret,id=envtok sh -c 'wc -c < /run/secrets/token > /token-len && wc -c < /run/secrets/envtok > /env-len'\n",
    );
    ws.write(
        "containers/uses/container.toml",
        "[build]\nsecrets = [{ id = \"token\", file = \"secrets/token\" }, { id = \"envtok\", env = \"DK_TEST_TOKEN\" }]\n",
    );
    ws.write("containers/uses/.dockerignore", "container.toml\n");

    // Missing sources are definition errors naming the node and the id.
    let out = ws.dk().args(["build", "uses"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("uses: build secret `envtok`") && err.contains("DK_TEST_TOKEN"),
        "{err}"
    );

    let out = ws
        .dk()
        .env("DK_TEST_TOKEN", &env_secret)
        .args(["build", "--json", "uses"])
        .output()
        .unwrap();
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{err}");
    let image = ws.image("uses", "latest");
    // The secrets were there while the step ran…
    assert_eq!(
        run_in(&image, &["cat", "/token-len"]).trim(),
        secret.len().to_string()
    );
    assert_eq!(
        run_in(&image, &["cat", "/env-len"]).trim(),
        env_secret.len().to_string()
    );
    // …and are nowhere after it: not in dk's output…
    for s in [&secret, &env_secret] {
        assert!(!text.contains(s.as_str()) && !err.contains(s.as_str()));
    }
    // …nor in any layer or the image config (the saved image, searched whole)…
    let saved = ws.path("saved.tar");
    let out = docker(&["save", "-o", saved.to_str().unwrap(), &image]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&saved).unwrap();
    for s in [&secret, &env_secret] {
        assert!(
            !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "a secret is in the saved image"
        );
    }
    // …nor in the history…
    let out = docker(&["history", "--no-trunc", &image]);
    let history = stdout(&out);
    assert!(!history.contains(&secret) && !history.contains(&env_secret));
    // …nor in records, logs or caches.
    for entry in walk(&ws.path(".dk")) {
        let content = std::fs::read(&entry).unwrap();
        for s in [&secret, &env_secret] {
            assert!(
                !content.windows(s.len()).any(|w| w == s.as_bytes()),
                "{} holds a secret",
                entry.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_secret_file_inside_the_build_context_is_refused() {
    let ws = TestWs::with_baseline();
    ws.container(
        "leaky",
        "FROM baseline\nRUN --mount=type=secret,id=t true\n",
    );
    ws.write("containers/leaky/token", "do-not-send\n");
    ws.write(
        "containers/leaky/container.toml",
        "[build]\nsecrets = [{ id = \"t\", file = \"containers/leaky/token\" }]\n",
    );
    let out = ws.dk().args(["build", "leaky"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("in the build context"), "{err}");
    assert!(ws.image_id(&ws.image("leaky", "latest")).is_none());
}

#[test]
fn labels_add_no_history_entry_and_a_parent_is_resolved_locally_never_pulled() {
    let ws = TestWs::with_baseline();
    ws.container("child", "FROM baseline\nCOPY a.txt /a.txt\n");
    ws.write("containers/child/a.txt", "a\n");
    ws.write(
        "containers/child/container.toml",
        "description = \"the child\"\n",
    );
    ws.write("containers/child/.dockerignore", "container.toml\n");
    // Every request dk makes goes through a proxy that keeps them.
    let proxy = RecordingProxy::start();
    let out = ws
        .dk()
        .env("DOCKER_HOST", proxy.host())
        .args(["build", "child"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = proxy.sent();
    assert!(sent.contains("POST /build"), "{sent}");
    assert!(
        !sent.contains("/images/create"),
        "a pull was attempted:\n{sent}"
    );
    let history = |image: &str| {
        stdout(&docker(&["history", "-q", "--no-trunc", image]))
            .lines()
            .count()
    };
    let parent = history(&ws.image("baseline", "latest"));
    let child = history(&ws.image("child", "latest"));
    assert_eq!(child, parent + 1, "one entry: the COPY, none for labels");
    let out = docker(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"org.opencontainers.image.description\"}}|{{index .Config.Labels \"dk.node\"}}",
        &ws.image("child", "latest"),
    ]);
    assert_eq!(stdout(&out).trim(), "the child|child");
}

#[test]
fn the_classic_opt_out_still_builds_the_example() {
    let ws = crate::audit::example();
    let toml = std::fs::read_to_string(ws.path("dk.toml")).unwrap();
    assert!(
        !toml.contains("[build]"),
        "the example sets no [build] of its own"
    );
    ws.write(
        "dk.toml",
        &format!("{toml}\n[build]\nbuilder = \"classic\"\n"),
    );
    let out = ws.ok(&["build"]);
    assert!(out.contains("6 built") && !out.contains("failed"), "{out}");
    // The classic builder adds the labels as one step of its own.
    let out = docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        &ws.image("site", "latest"),
    ]);
    assert!(stdout(&out).contains("LABEL"), "{}", stdout(&out));
}

#[test]
fn what_this_daemons_frontend_lacks_is_exit_2_before_anything_is_sent() {
    let ws = TestWs::with_baseline();
    ws.container("linked", "FROM baseline\nCOPY --link a.txt /a.txt\n");
    ws.write("containers/linked/a.txt", "a\n");
    ws.container("heredoc", "FROM baseline\nRUN <<EOF\necho hi\nEOF\n");
    for (node, what) in [
        ("linked", "containers/linked/Dockerfile:2: `COPY --link`"),
        (
            "heredoc",
            "containers/heredoc/Dockerfile:2: a heredoc in RUN",
        ),
    ] {
        let out = ws.dk().args(["build", node]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(what), "{err}");
        assert!(err.contains("frontend 1.4"), "{err}");
    }
    // A frontend named with `# syntax=` must be in the local store.
    ws.container(
        "syntax",
        "# syntax=docker/dockerfile:1.7\nFROM baseline\nRUN true\n",
    );
    let out = ws.dk().args(["build", "syntax"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("containers/syntax/Dockerfile:1: `# syntax=docker/dockerfile:1.7`")
            && err.contains("not in the local daemon"),
        "{err}"
    );
}

#[test]
fn buildkit_only_syntax_under_the_classic_builder_is_exit_2_with_file_and_line() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\nCOPY x /x\n");
    ws.container(
        "kit",
        "FROM baseline\nRUN --mount=type=cache,target=/c true\nCOPY --chmod=755 a /a\n",
    );
    ws.write(
        "containers/kit/container.toml",
        "[build]\nbuilder = \"classic\"\n",
    );
    let out = ws.dk().arg("plan").output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "containers/kit/Dockerfile:2: `RUN --mount` needs BuildKit, but this node builds with the classic builder"
        ),
        "{err}"
    );
    assert!(
        err.contains("containers/kit/Dockerfile:3: `COPY --chmod`"),
        "{err}"
    );
    assert!(
        err.contains(
            "remove `builder = \"classic\"` from [build] in containers/kit/container.toml"
        ),
        "{err}"
    );
}

#[test]
fn a_platform_is_hashed_and_a_base_of_another_platform_is_dk_s_own_error() {
    let ws = TestWs::with_baseline();
    ws.container("arm", "FROM baseline\nRUN true\n");
    ws.ok(&["build", "arm"]);
    ws.write(
        "containers/arm/container.toml",
        "[build]\nplatform = \"linux/arm64\"\n",
    );
    ws.write("containers/arm/.dockerignore", "container.toml\n");
    let plan = ws.ok(&["plan", "arm"]);
    assert!(plan.contains("arm") && plan.contains("build"), "{plan}");
    let out = ws.dk().args(["build", "arm"]).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("containers/arm/Dockerfile:1: this stage builds for linux/arm64")
            && err.contains("is linux/amd64"),
        "{err}"
    );
    assert!(!err.contains("registry-1.docker.io"), "{err}");
}
