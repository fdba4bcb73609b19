//! One workspace for amd64 and arm64 (`[build] platforms`): every directory is built and
//! tested for both (arm64 under QEMU), goes live on both or on neither, runs its own
//! platform here, and `dk push` leaves one manifest list per tag that each machine pulls its
//! own architecture from. A change rebuilds that node and its dependents on both platforms;
//! a no-op stays a no-op.

use crate::common::{
    TestWs, busybox_arm64, docker, platform_of, require_emulation, stderr, stdout,
};
use crate::parts::TestRegistry;

/// Make `ws`'s baseline (`TestWs::for_services`) one of two platforms: each platform's
/// busybox, chosen by `TARGETARCH`; and every node built for amd64 and arm64.
pub fn two_platform_baseline(ws: &TestWs) {
    require_emulation();
    std::fs::rename(
        ws.path("baseline/busybox"),
        ws.path("baseline/busybox-amd64"),
    )
    .unwrap();
    std::fs::copy(busybox_arm64(), ws.path("baseline/busybox-arm64")).unwrap();
    ws.write(
        "baseline/Dockerfile",
        "FROM scratch\nARG TARGETARCH\nCOPY busybox-${TARGETARCH} /bin/busybox\nRUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox --install -s /bin && rm /bin/dpkg /bin/dpkg-deb /bin/rpm /bin/rpm2cpio\"]\nUSER 1000:1000\nCMD [\"sleep\", \"600\"]\n",
    );
    ws.append(
        "dk.toml",
        "\n[build]\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n",
    );
}

/// The two-platform baseline and a node `arch` whose RUN step records the machine it ran
/// on; `check` is its container.toml.
fn two_platforms(check: &str) -> TestWs {
    let ws = TestWs::for_services();
    two_platform_baseline(&ws);
    ws.container(
        "arch",
        "FROM baseline\nUSER 0:0\nRUN uname -m > /built-on\nUSER 1000:1000\n",
    );
    ws.write("containers/arch/container.toml", check);
    ws.write("containers/arch/.dockerignore", "container.toml\n");
    ws
}

#[test]
fn a_two_platform_workspace_is_built_tested_promoted_and_pushed_as_one_list_per_node() {
    let ws = two_platforms(
        "autostart = true\n\n[[test.check]]\nname = \"built and run on the same machine\"\nexec = [\"sh\", \"-c\", \"test \\\"$(uname -m)\\\" = \\\"$(cat /built-on)\\\"\"]\n",
    );
    let out = ws.ok(&["up"]);
    for line in [
        "baseline (linux/amd64): test passed",
        "baseline (linux/arm64): test passed",
        "arch (linux/amd64): test passed",
        "arch (linux/arm64): test passed",
        "arch (linux/amd64): created and started",
    ] {
        assert!(out.contains(line), "{line} in:\n{out}");
    }
    // Built on the platform each says (the arm64 RUN steps ran under QEMU) and promoted
    // together; the host runs its own.
    assert_eq!(platform_of(&ws.image("arch", "live")), "linux/amd64");
    assert_eq!(platform_of(&ws.image("arch", "live-arm64")), "linux/arm64");
    assert_eq!(
        platform_of(&ws.image("baseline", "live-arm64")),
        "linux/arm64"
    );
    let running = docker(&[
        "inspect",
        "--format",
        "{{.Image}}",
        &format!("{}-arch", ws.ns),
    ]);
    assert_eq!(
        stdout(&running).trim(),
        ws.image_id(&ws.image("arch", "live")).unwrap()
    );
    assert!(
        ws.containers("live").len() == 1,
        "one live container: the host's platform"
    );
    let status = ws.ok(&["status", "arch"]);
    assert!(
        status.contains("arch (linux/amd64)") && status.contains("arch (linux/arm64)"),
        "{status}"
    );

    // One reference per node in the registry: a list of both platforms.
    let registry = TestRegistry::start(None);
    ws.append(
        "dk.toml",
        &format!("\n[[registry]]\nurl = \"{}\"\n", registry.url()),
    );
    let out = ws.ok(&["push"]);
    assert!(out.contains("arch: pushed"), "{out}");
    let list = manifest_at(&registry.url(), &format!("{}/arch", ws.ns), "live", None);
    assert_eq!(
        list["mediaType"], "application/vnd.docker.distribution.manifest.list.v2+json",
        "{list}"
    );
    let mut archs: Vec<&str> = list["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    archs.sort();
    assert_eq!(archs, ["amd64", "arm64"]);
    let reference = format!("{}/{}/arch:live", registry.url(), ws.ns);
    let pull = docker(&["pull", "-q", "--platform", "linux/arm64", &reference]);
    assert!(pull.status.success(), "{}", stderr(&pull));
    let run = docker(&[
        "run",
        "--rm",
        "--platform",
        "linux/arm64",
        &reference,
        "uname",
        "-m",
    ]);
    let _ = docker(&["rmi", &reference]);
    assert_eq!(stdout(&run).trim(), "aarch64", "{}", stderr(&run));

    // A change to one node rebuilds it (and its dependents) on both platforms, nothing else.
    ws.append("containers/arch/Dockerfile", "LABEL changed=yes\n");
    let plan = ws.ok(&["plan"]);
    let to_build: Vec<&str> = plan
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("build"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(to_build, ["arch", "arch@arm64"], "{plan}");
    let out = ws.ok(&["up"]);
    assert!(
        out.contains("arch (linux/amd64): build built")
            && out.contains("arch (linux/arm64): build built")
            && !out.contains("baseline (linux/amd64): build built")
            && !out.contains("baseline (linux/arm64): build built"),
        "{out}"
    );
    assert!(out.contains("arch (linux/arm64): test passed"), "{out}");
    // And a no-op is a no-op.
    let out = ws.ok(&["up"]);
    assert!(
        !out.contains("build built") && !out.contains("test passed (") && out.contains("unchanged"),
        "{out}"
    );
}

/// The manifest `at` of `repo` in the registry at `url`, read with curl (in network
/// namespace `netns` when given).
pub fn manifest_at(url: &str, repo: &str, at: &str, netns: Option<&str>) -> serde_json::Value {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = std::process::Command::new("ip");
            c.args(["netns", "exec", ns, "curl"]);
            c
        }
        None => std::process::Command::new("curl"),
    };
    let out = cmd
        .args([
            "-s",
            "-f",
            "-H",
            "Accept: application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json",
            &format!("http://{url}/v2/{repo}/manifests/{at}"),
        ])
        .output()
        .expect("curl");
    assert!(out.status.success(), "GET {repo}:{at}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_platform_that_fails_its_tests_keeps_every_platform_of_its_node_from_going_live() {
    let ws = two_platforms(
        "[[test.check]]\nname = \"runs on x86_64\"\nexec = [\"sh\", \"-c\", \"test $(uname -m) = x86_64\"]\n",
    );
    // One node per platform, each with its platform and tags.
    let arm = ws.ls_node("arch@arm64");
    assert_eq!(arm["platform"], "linux/arm64");
    assert_eq!(arm["live"], ws.image("arch", "live-arm64"));
    assert_eq!(arm["parents"], serde_json::json!(["baseline@arm64"]));
    assert_eq!(ws.ls_node("arch")["platform"], "linux/amd64");
    // A cross-compiling Dockerfile: its build stage runs natively for both platforms.
    ws.container(
        "cross",
        "FROM --platform=$BUILDPLATFORM baseline AS build\nUSER 0:0\nRUN uname -m > /native\nFROM baseline\nCOPY --from=build /native /native\n",
    );
    ws.write(
        "containers/cross/container.toml",
        "[[test.check]]\nname = \"built natively\"\nexec = [\"cat\", \"/native\"]\nstdout_equals = \"x86_64\\n\"\n",
    );
    let out = ws.ok(&["test", "cross"]);
    assert!(
        out.contains("cross (linux/amd64): test passed")
            && out.contains("cross (linux/arm64): test passed"),
        "{out}"
    );
    let junit = ws.path("junit.xml");
    let out = ws.fails(&["test", "arch", "--junit", junit.to_str().unwrap()]);
    assert!(
        out.contains("arch (linux/amd64): test passed")
            && out.contains("arch (linux/arm64): test failed"),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"arch (linux/amd64)\" tests=\"3\" failures=\"0\"")
            && xml.contains("<testsuite name=\"arch (linux/arm64)\" tests=\"3\" failures=\"1\""),
        "{xml}"
    );
    let out = ws.fails(&["promote", "arch"]);
    assert!(
        out.contains("arch (linux/amd64) cannot go live without arch (linux/arm64)"),
        "{out}"
    );
    for tag in ["live", "live-arm64"] {
        assert!(
            ws.image_id(&ws.image("arch", tag)).is_none(),
            "arch:{tag} did not move:\n{out}"
        );
    }
    assert!(ws.containers("live").is_empty());
}

#[test]
fn platform_keys_are_checked_at_their_lines() {
    let ws = TestWs::empty();
    ws.write("baseline/Dockerfile", "FROM scratch\n");
    ws.container("web", "FROM baseline\n");
    // `dk plan` stops at the definition: exit 2, and what it says.
    let refused = || {
        let out = ws.dk().args(["plan"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        err
    };
    // Both keys on one node.
    ws.write(
        "containers/web/container.toml",
        "[build]\nplatform = \"linux/arm64\"\nplatforms = [\"linux/arm64\"]\n",
    );
    let err = refused();
    assert!(
        err.contains("containers/web/container.toml:3")
            && err.contains("`platform` and `platforms` are both set"),
        "{err}"
    );
    // A platform the parent is not built for.
    ws.write(
        "containers/web/container.toml",
        "# web\n[build]\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n",
    );
    let err = refused();
    assert!(
        err.contains("containers/web/container.toml:3")
            && err.contains("web builds for linux/arm64, but its parent baseline")
            && err.contains("is built only for linux/amd64")
            && err.contains("add linux/arm64 to the platforms of baseline"),
        "{err}"
    );
    // dk.toml's list: not empty, no platform twice.
    ws.write("containers/web/container.toml", "");
    ws.append(
        "dk.toml",
        "[build]\nplatforms = [\"linux/amd64\", \"linux/amd64\"]\n",
    );
    let err = refused();
    assert!(
        err.contains("dk.toml:7") && err.contains("linux/amd64 is named twice"),
        "{err}"
    );
}

#[test]
fn the_multiarch_example_builds_tests_and_runs_on_this_machine() {
    require_emulation();
    let ws = TestWs::docker();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = root.join("examples/multiarch");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .args(["baseline", "containers"].map(|d| example.join(d)))
        .arg(ws.root())
        .status()
        .unwrap();
    assert!(status.success());
    for generated in ["baseline/dl", "baseline/arch"] {
        let _ = std::fs::remove_dir_all(ws.path(generated));
    }
    let toml = std::fs::read_to_string(example.join("dk.toml"))
        .unwrap()
        .replace(
            "namespace = \"dk-multiarch\"",
            &format!("namespace = \"{}\"", ws.ns),
        )
        // A copy is a workspace of its own.
        .replace("id = \"dk-multiarch\"\n", "")
        .replace(
            "\"../../vendor/fetch\"",
            &format!("\"{}\"", root.join("vendor/fetch").display()),
        );
    ws.write("dk.toml", &toml);
    ws.ok(&["prep", "web"]);
    assert!(
        !ws.path("data/web@arm64").exists(),
        "another platform's node has no data of its own"
    );
    let out = ws.ok(&["up", "web"]);
    for line in [
        "baseline (linux/amd64): test passed",
        "baseline (linux/arm64): test passed",
        "web (linux/amd64): test passed",
        "web (linux/arm64): test passed",
        "web (linux/amd64): created and started",
    ] {
        assert!(out.contains(line), "{line} in:\n{out}");
    }
    // Each platform's own busybox and tini, staged by the steps of its platform.
    for (tag, arch) in [("live", "x86_64"), ("live-arm64", "aarch64")] {
        let run = docker(&[
            "run",
            "--rm",
            "--entrypoint",
            "/bin/busybox",
            &ws.image("web", tag),
            "uname",
            "-m",
        ]);
        assert_eq!(stdout(&run).trim(), arch, "{}", stderr(&run));
    }
}
