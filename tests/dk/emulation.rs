//! Building and testing for another architecture on this machine: a node with
//! `[build] platform = "linux/arm64"` (and a baseline of the same platform, from Debian's
//! arm64 busybox-static) builds its RUN steps and runs its tests under QEMU through
//! binfmt_misc; without an emulator dk stops before building, with exit 2 naming the
//! platform and the fix, never a bare `exec format error`.

use crate::common::{TestWs, busybox_arm64, platform_of, require_emulation, stderr};

/// An arm64 baseline (busybox, a user, a process that stays up) and one arm64 node that
/// checks which machine its programs see.
fn arm64_workspace() -> TestWs {
    let ws = TestWs::for_services_on(&busybox_arm64());
    ws.write(
        "baseline/container.toml",
        "[build]\nplatform = \"linux/arm64\"\n",
    );
    ws.container(
        "arch",
        "FROM baseline\nUSER 0:0\nRUN uname -m > /built-on\nUSER 1000:1000\n",
    );
    ws.write(
        "containers/arch/container.toml",
        "[build]\nplatform = \"linux/arm64\"\n\n[[test.check]]\nname = \"runs as aarch64\"\nexec = [\"uname\", \"-m\"]\nstdout_equals = \"aarch64\\n\"\n\n[[test.check]]\nname = \"was built by aarch64 programs\"\nexec = [\"cat\", \"/built-on\"]\nstdout_equals = \"aarch64\\n\"\n",
    );
    ws.write("containers/arch/.dockerignore", "container.toml\n");
    ws
}

#[test]
fn an_arm64_node_builds_and_passes_its_tests_under_qemu() {
    require_emulation();
    let ws = arm64_workspace();
    let out = ws.ok(&["test", "arch"]);
    assert!(out.contains("arch: test passed"), "{out}");
    assert_eq!(platform_of(&ws.image("arch", "latest")), "linux/arm64");
}

#[test]
fn without_an_emulator_the_build_stops_naming_the_platform_and_the_fix() {
    let ws = arm64_workspace();
    // A machine whose binfmt_misc is not mounted, then one with no arm64 handler.
    let empty = tempfile::tempdir().unwrap();
    for (setup, said) in [
        (false, "binfmt_misc is not mounted on"),
        (
            true,
            "no emulator is registered with binfmt_misc (qemu-aarch64)",
        ),
    ] {
        if setup {
            std::fs::write(empty.path().join("status"), "enabled\n").unwrap();
        }
        let out = ws
            .dk()
            .env("DK_BINFMT_MISC", empty.path())
            .args(["build", "baseline"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("baseline/container.toml")
                && err.contains("`[build] platform = \"linux/arm64\"`")
                && err.contains("cannot run linux/arm64 programs")
                && err.contains(said)
                && err.contains("apt-get install qemu-user-static binfmt-support"),
            "{err}"
        );
        assert!(!err.contains("exec format error"), "{err}");
    }
    assert!(
        ws.image_id(&ws.image("baseline", "latest")).is_none(),
        "nothing was built"
    );
}
