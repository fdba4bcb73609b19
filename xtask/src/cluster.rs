//! The registry and Swarm rows of `cargo xtask bench`:
//!
//! 6. `dk push` of the example workspace, then again after one change to `web`: the bytes
//!    and blobs that reached the registry (its storage, before and after), checked against
//!    the layers that are new in the changed images.
//! 7. A single-node swarm (a second daemon in a network namespace of its own, a registry on
//!    that namespace's loopback): a no-op `dk up` of a Swarm service, and one changed
//!    service rolled out by `dk up` beside `docker build` + `docker push` +
//!    `docker stack deploy` of an equivalent stack file, waited for until Swarm completes.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::bench::{Report, dk, example_copy, ratio, verdict};
use crate::parts::{SecondDaemon, TestRegistry};
use crate::util::{busybox_workspace, median_of, ms, remove_images, run, time, write};

/// (bytes, blob count) the registry stores.
fn stored(reg: &TestRegistry) -> (u64, BTreeSet<String>) {
    let blobs = reg.storage().join("docker/registry/v2/blobs/sha256");
    let mut bytes = 0;
    let mut names = BTreeSet::new();
    for prefix in std::fs::read_dir(&blobs).into_iter().flatten().flatten() {
        for blob in std::fs::read_dir(prefix.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(m) = std::fs::metadata(blob.path().join("data")) {
                bytes += m.len();
                names.insert(blob.file_name().to_string_lossy().into_owned());
            }
        }
    }
    (bytes, names)
}

/// The layer diff ids and id of each `:live` image of `nodes`.
fn live_layers(ns: &str, nodes: &[&str]) -> Vec<(String, BTreeSet<String>)> {
    nodes
        .iter()
        .map(|n| {
            let out = run(Command::new("docker").args([
                "image",
                "inspect",
                "--format",
                "{{.Id}} {{range .RootFS.Layers}}{{.}} {{end}}",
                &format!("{ns}/{n}:live"),
            ]));
            let s = String::from_utf8_lossy(&out.stdout).to_string();
            let mut it = s.split_whitespace().map(String::from);
            let id = it.next().unwrap_or_default();
            (id, it.collect())
        })
        .collect()
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

/// 6. Pushes of the example workspace.
pub fn push_rows(report: &mut Report, ns: &str) {
    report.section("Push to a registry (example workspace, registry on 127.0.0.1)");
    let reg = TestRegistry::start(None);
    let ws = example_copy(ns);
    with_registry(&ws, &format!("[[registry]]\nurl = \"{}\"\n", reg.url()));
    let dkc = |args: &[&str]| dk_on(&ws, None, args);
    let promote = || {
        run(&mut dkc(&["build", "-j", "4"]));
        run(&mut dkc(&["test", "-j", "4"]));
        run(&mut dkc(&["promote"]));
    };
    println!("push: build, test, promote the example...");
    promote();
    let nodes = ["baseline", "filewatch", "web", "site"];
    let before_layers = live_layers(ns, &nodes);
    let first = time(&mut dkc(&["push"]));
    let (first_bytes, first_blobs) = stored(&reg);
    write(
        &ws,
        "containers/web/files/srv/www/index.html",
        "<p>changed for the push benchmark</p>\n",
    );
    promote();
    let after_layers = live_layers(ns, &nodes);
    let second = time(&mut dkc(&["push"]));
    let (second_bytes, second_blobs) = stored(&reg);
    let changed: Vec<&str> = nodes
        .iter()
        .zip(before_layers.iter().zip(&after_layers))
        .filter(|(_, (b, a))| b.0 != a.0)
        .map(|(n, _)| *n)
        .collect();
    let old: BTreeSet<&String> = before_layers.iter().flat_map(|(_, l)| l).collect();
    let new_layers: BTreeSet<&String> = after_layers
        .iter()
        .flat_map(|(_, l)| l)
        .filter(|l| !old.contains(l))
        .collect();
    let new_blobs = second_blobs.difference(&first_blobs).count();
    // A new image brings its new layers, its config and its manifest.
    let expected = new_layers.len() + 2 * changed.len();
    report.row(
        "first `dk push` (4 nodes: revision + live tags, digests verified)",
        ms(first),
        format!(
            "{} in {} blobs uploaded",
            mib(first_bytes),
            first_blobs.len()
        ),
    );
    report.row(
        "`dk push` after one change to web",
        ms(second),
        format!(
            "{} bytes in {new_blobs} new blobs uploaded; images changed: {} (site builds on web); their new layers: {}",
            second_bytes - first_bytes,
            changed.join(", "),
            new_layers.len()
        ),
    );
    report.verdict(format!(
        "only the changed nodes' new layers are uploaded: {new_blobs} new blobs = {} new layers + a config and a manifest per changed image ({})",
        new_layers.len(),
        verdict(new_blobs == expected)
    ));
    crate::bench::remove_networks(ns);
    let _ = std::fs::remove_dir_all(&ws);
    remove_images(ns);
}

/// The service of the Swarm rows: busybox httpd with a healthcheck, two replicas.
fn swarm_service(dir: &Path, page: &str) {
    write(
        dir,
        "containers/svc/Dockerfile",
        "FROM baseline\nCOPY www /www\nHEALTHCHECK --interval=1s --retries=2 CMD [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/\"]\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
    );
    write(dir, "containers/svc/www/index.html", page);
    write(dir, "containers/svc/.dockerignore", "container.toml\n");
    write(
        dir,
        "containers/svc/container.toml",
        "[deploy]\nreplicas = 2\n\n[run.ready]\ngrace = \"2s\"\n",
    );
}

/// Poll the service until Swarm says its update completed (bounded).
fn wait_completed(d: &SecondDaemon, service: &str, since: &str) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let out = d.docker(&[
            "service",
            "inspect",
            "--format",
            "{{if .UpdateStatus}}{{.UpdateStatus.State}} {{.UpdateStatus.StartedAt}}{{end}}",
            service,
        ]);
        let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if let Some(started) = s.strip_prefix("completed ")
            && started != since
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{service}: no completed update within 180 s ({s})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// 7. Swarm: no-op and one changed service, dk vs `docker stack deploy`.
pub fn swarm_rows(report: &mut Report, ns: &str) {
    report.section("Swarm (single-node swarm in a network namespace, registry on its loopback)");
    println!("swarm: starting a daemon in a namespace, a swarm and a registry...");
    let d = SecondDaemon::start();
    d.swarm_init();
    let reg = TestRegistry::start_in(Some(d.netns()), None);
    let ws = std::env::temp_dir().join(format!("dk-bench-swarm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ws);
    busybox_workspace(
        &ws,
        ns,
        221,
        1,
        "USER 1000:1000\nCMD [\"sleep\", \"600\"]\n",
    );
    with_registry(
        &ws,
        &format!(
            "[deploy]\ntarget = \"swarm\"\n\n[[registry]]\nurl = \"{}\"\n",
            reg.url()
        ),
    );
    let dkc = |args: &[&str]| dk_on(&ws, Some(&d.host()), args);
    swarm_service(&ws, "v0\n");
    let first = time(&mut dkc(&["up", "svc"]));
    let noop = median_of(crate::bench::RUNS, || dkc(&["up", "svc"]));

    let mut dk_times = Vec::new();
    for round in 1..=3 {
        swarm_service(&ws, &format!("v{round}\n"));
        dk_times.push(time(&mut dkc(&["up", "svc"])));
    }
    dk_times.sort();

    // The same service by hand: build, push, deploy an equivalent stack, wait.
    let stack_dir = ws.join("stack");
    run(Command::new("cp")
        .arg("-a")
        .arg(ws.join("containers/svc"))
        .arg(&stack_dir));
    let df = std::fs::read_to_string(stack_dir.join("Dockerfile")).unwrap();
    std::fs::write(
        stack_dir.join("Dockerfile"),
        df.replace("FROM baseline", &format!("FROM {ns}/baseline:live")),
    )
    .unwrap();
    let stack = format!("{ns}stack");
    let image = format!("{}/{stack}/svc", reg.url());
    let deploy = |tag: &str| {
        write(
            &stack_dir,
            "stack.yml",
            &format!(
                "version: \"3.8\"\nservices:\n  svc:\n    image: {image}:{tag}\n    deploy:\n      replicas: 2\n      endpoint_mode: dnsrr\n      update_config:\n        parallelism: 1\n        order: start-first\n        failure_action: rollback\n        monitor: 2s\n      rollback_config:\n        parallelism: 1\n        order: start-first\n"
            ),
        );
        let since = String::from_utf8_lossy(
            &d.docker(&[
                "service",
                "inspect",
                "--format",
                "{{if .UpdateStatus}}{{.UpdateStatus.StartedAt}}{{end}}",
                &format!("{stack}_svc"),
            ])
            .stdout,
        )
        .trim()
        .to_string();
        let t = Instant::now();
        for args in [
            vec![
                "build",
                "-q",
                "-t",
                &format!("{image}:{tag}"),
                stack_dir.to_str().unwrap(),
            ],
            vec!["push", "-q", &format!("{image}:{tag}")],
            vec![
                "stack",
                "deploy",
                "--resolve-image",
                "never",
                "-c",
                stack_dir.join("stack.yml").to_str().unwrap(),
                &stack,
            ],
        ] {
            let out = d.docker(&args);
            assert!(
                out.status.success(),
                "docker {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        (t, since)
    };
    let (_, _) = deploy("v0");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !String::from_utf8_lossy(
        &d.docker(&[
            "service",
            "ls",
            "--filter",
            &format!("name={stack}_svc"),
            "--format",
            "{{.Replicas}}",
        ])
        .stdout,
    )
    .contains("2/2")
    {
        assert!(
            Instant::now() < deadline,
            "the stack's service did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut stack_times = Vec::new();
    for round in 1..=3 {
        write(&stack_dir, "www/index.html", &format!("stack {round}\n"));
        let (t, since) = deploy(&format!("v{round}"));
        wait_completed(&d, &format!("{stack}_svc"), &since);
        stack_times.push(t.elapsed());
    }
    stack_times.sort();

    report.row(
        "first `dk up` of a Swarm service (build, test, promote, push, 2 tasks running)",
        ms(first),
        "",
    );
    report.row(
        "`dk up` with nothing changed",
        ms(noop),
        "no update sent: the service's settings hash matches",
    );
    report.row(
        "`dk up svc` after a change (median of 3)",
        ms(dk_times[1]),
        "build + test + promote + push by digest + Swarm's rolling update of 2 tasks (start-first, 2 s monitor each), waited for",
    );
    report.row(
        "`docker build` + `docker push` + `docker stack deploy` of the same change, waited for until the update completed (median of 3)",
        ms(stack_times[1]),
        format!(
            "no test; dk takes {:.2}× its time",
            ratio(dk_times[1], stack_times[1])
        ),
    );
    report.verdict(format!(
        "Swarm no-op `dk up` under 100 ms: {} ({})",
        ms(noop),
        verdict(noop < Duration::from_millis(100))
    ));
    let _ = d.docker(&["stack", "rm", &stack]);
    let _ = std::fs::remove_dir_all(&ws);
}

/// dk.toml of `ws` with `tail` appended (a registry, …), and an empty Docker config of its
/// own (no credentials of the machine's).
fn with_registry(ws: &Path, tail: &str) {
    let mut toml = std::fs::read_to_string(ws.join("dk.toml")).unwrap();
    toml.push('\n');
    toml.push_str(tail);
    std::fs::write(ws.join("dk.toml"), toml).unwrap();
    write(ws, "docker-config/config.json", "{}\n");
}

/// `dk ARGS` in `ws` with its Docker config, against `host` (None: the main daemon).
fn dk_on(ws: &Path, host: Option<&str>, args: &[&str]) -> Command {
    let mut c = dk(ws, args);
    c.env("DOCKER_CONFIG", ws.join("docker-config"));
    if let Some(h) = host {
        c.env("DOCKER_HOST", h);
    }
    c
}

/// Every image and the build cache of `d` removed, and the workspace's records: a cold
/// builder (the registry is left as it is).
fn make_cold(d: &SecondDaemon, ws: &Path) {
    let list = |args: &[&str]| -> Vec<String> {
        String::from_utf8_lossy(&d.docker(args).stdout)
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    for c in list(&["ps", "-aq"]) {
        d.docker(&["rm", "-f", "-v", &c]);
    }
    let images = list(&["images", "-aq", "--no-trunc"]);
    if !images.is_empty() {
        let mut args = vec!["rmi", "-f"];
        args.extend(images.iter().map(String::as_str));
        d.docker(&args);
    }
    let out = d.docker(&["builder", "prune", "-af"]);
    assert!(out.status.success(), "builder prune: {:?}", out);
    assert!(
        list(&["images", "-aq"]).is_empty(),
        "the cold builder still has images"
    );
    let _ = std::fs::remove_dir_all(ws.join(".dk/records"));
}

/// Set dk.toml's `[build] registry_cache`.
fn registry_cache(ws: &Path, on: bool) {
    let path = ws.join("dk.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace(
        &format!("registry_cache = {}", !on),
        &format!("registry_cache = {on}"),
    );
    std::fs::write(path, text).unwrap();
}

/// Timed runs of each cold build (each a full build of the workspace).
const RUNS: usize = 3;

/// 8. A cold builder (a daemon with no image and an empty build cache) building a workspace
///    from nothing, and with `[build] registry_cache` after another builder built, tested
///    and pushed it: what the registry has is taken (`in-<input hash>`, with the test
///    record), nothing is built. Then one changed node: only it and its dependents build.
pub fn cache_rows(report: &mut Report, pid: u32) {
    report.section(
        "A cold builder with and without the registry cache (a daemon of its own, registry on its loopback)",
    );
    for (label, big) in [
        ("example workspace (5 nodes)", false),
        ("generated workspace (100 nodes)", true),
    ] {
        println!("registry cache, {label}: a daemon of its own and a registry...");
        let d = SecondDaemon::start();
        // The example's HTTP checks reach test containers by address, which only works
        // with a daemon in dk's own network namespace: it is built, tested and pushed by the
        // main daemon to a registry on the host's loopback, which the cold builder reaches at
        // the same address through a second registry process on the same storage in its
        // namespace. The generated workspace (no HTTP checks) does all of it on `d`.
        let (reg, mirror, populate_on) = if big {
            (
                TestRegistry::start_in(Some(d.netns()), None),
                None,
                Some(d.host()),
            )
        } else {
            let reg = TestRegistry::start(None);
            let mirror = reg.mirror_in(d.netns());
            (reg, Some(mirror), None)
        };
        let ns = format!("dkbenchr{pid}{}", if big { "g" } else { "x" });
        let (ws, changed) = if big {
            let ws = crate::bench::tmp("dk-bench-cache-100");
            // Every node's test launch needs a process that stays up, as a user.
            crate::bench::generate(
                &ws,
                100,
                &ns,
                6,
                "USER 1000:1000\nCMD [\"sleep\", \"600\"]\n",
            );
            // A layer-2 node with three layers below it.
            (ws, "containers/c021/files/f0.txt")
        } else {
            (example_copy(&ns), "containers/web/files/srv/www/index.html")
        };
        with_registry(
            &ws,
            &format!(
                "[[registry]]\nurl = \"{}\"\n\n[build]\nregistry_cache = true\n",
                reg.url()
            ),
        );
        let dkc = |args: &[&str]| dk_on(&ws, Some(&d.host()), args);
        // Built, tested, promoted and pushed by one builder.
        println!("registry cache, {label}: build, test, promote, push...");
        let populate = |args: &[&str]| run(&mut dk_on(&ws, populate_on.as_deref(), args));
        populate(&["build", "-j", "4"]);
        populate(&["test", "-j", "4"]);
        populate(&["promote"]);
        populate(&["push"]);
        if populate_on.is_none() {
            // What the main daemon made for it: its images and networks.
            crate::bench::remove_networks(&ns);
            remove_images(&ns);
        }
        // A cold builder without the cache (every node built), then with it (every node
        // taken from the registry), alternating; medians of RUNS each.
        let mut colds = Vec::new();
        let mut cacheds = Vec::new();
        let (mut cold_built, mut cached_statuses) = (Vec::new(), Vec::new());
        for round in 1..=RUNS {
            println!("registry cache, {label}: cold builds, round {round} of {RUNS}...");
            make_cold(&d, &ws);
            registry_cache(&ws, false);
            let (t, s) = timed_build(&mut dkc(&["build", "-j", "4", "--json"]));
            colds.push(t);
            cold_built = s;
            make_cold(&d, &ws);
            registry_cache(&ws, true);
            let (t, s) = timed_build(&mut dkc(&["build", "-j", "4", "--json"]));
            cacheds.push(t);
            cached_statuses = s;
        }
        colds.sort();
        cacheds.sort();
        let (cold, cached) = (colds[RUNS / 2], cacheds[RUNS / 2]);
        // `dk test`'s summary line: `N passed earlier in …`.
        let tested = {
            let out = run(&mut dkc(&["test", "-j", "4"]));
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            text.lines()
                .flat_map(|l| l.split(", "))
                .find_map(|part| {
                    let n = part.trim().split_once(" passed earlier").map(|(n, _)| n)?;
                    n.parse::<usize>().ok()
                })
                .unwrap_or(0)
        };
        // One change: it and its dependents are built, the rest taken.
        write(
            &ws,
            changed,
            &format!("changed for the cache benchmark {pid}\n"),
        );
        make_cold(&d, &ws);
        let (one, one_statuses) = timed_build(&mut dkc(&["build", "-j", "4", "--json"]));
        let count = |s: &[String], what: &str| s.iter().filter(|x| *x == what).count();
        let n = cold_built.len();
        report.row(
            format!("{label}: cold `dk build`, no registry cache (median of {RUNS})"),
            ms(cold),
            format!("{} of {n} built", count(&cold_built, "built")),
        );
        report.row(
            format!("{label}: cold `dk build`, registry cache (median of {RUNS})"),
            ms(cached),
            format!(
                "{} taken, {} built; then `dk test`: {tested} of {n} passed earlier (records taken with the images); {:.2}× the cold build",
                count(&cached_statuses, "taken"),
                count(&cached_statuses, "built"),
                ratio(cached, cold)
            ),
        );
        report.row(
            format!("{label}: cold `dk build`, registry cache, one node changed"),
            ms(one),
            format!(
                "{} taken, {} built (the changed node and its dependents)",
                count(&one_statuses, "taken"),
                count(&one_statuses, "built")
            ),
        );
        report.verdict(format!(
            "{label}: a cold builder with the registry cache takes every node ({}) in ≤ 0.3× the cold build: {:.2}× ({})",
            verdict(count(&cached_statuses, "taken") == n),
            ratio(cached, cold),
            verdict(cached.as_secs_f64() <= 0.3 * cold.as_secs_f64())
        ));
        drop(mirror);
        drop(reg);
        drop(d);
        let _ = std::fs::remove_dir_all(&ws);
    }
}

/// Run a `dk build --json`; its time and each node's status.
fn timed_build(cmd: &mut Command) -> (Duration, Vec<String>) {
    let t = Instant::now();
    let out = run(cmd);
    let elapsed = t.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(text.lines().last().unwrap_or("{}")).unwrap_or_default();
    let statuses = summary["summary"]["nodes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| n["status"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    (elapsed, statuses)
}
