//! Can this machine run another architecture's programs? A build for a foreign platform runs
//! its `RUN` steps, and its tests run the image, through the kernel's binfmt_misc handing
//! each foreign binary to a QEMU user-mode emulator. The handler must be registered with the
//! `F` flag (the emulator opened at registration), or it cannot be found from inside a
//! container. Read from `/proc/sys/fs/binfmt_misc` (`DK_BINFMT_MISC` names another
//! directory, for a machine that mounts it elsewhere).

use std::path::{Path, PathBuf};

/// How to make a machine run foreign programs (Debian; other systems have the same parts).
pub const FIX: &str = "mount binfmt_misc (`mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc`), then `apt-get install qemu-user-static binfmt-support`, which registers the emulators with the flag containers need";

/// The directory binfmt_misc is mounted on.
pub fn binfmt_root() -> PathBuf {
    std::env::var_os("DK_BINFMT_MISC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/proc/sys/fs/binfmt_misc"))
}

/// QEMU's name for a Docker architecture (`arm64` → `aarch64`).
pub fn qemu_arch(arch: &str) -> &str {
    match arch {
        "arm64" => "aarch64",
        "amd64" => "x86_64",
        "386" => "i386",
        "ppc64le" => "ppc64le",
        "arm" => "arm",
        other => other,
    }
}

/// Does a machine of `host` architecture run `target` programs without emulation?
pub fn native(host: &str, target: &str) -> bool {
    host == target || (host == "amd64" && target == "386")
}

/// Why `target` programs cannot run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// binfmt_misc is not mounted (no `status` file).
    NotMounted(PathBuf),
    /// No handler for it is registered.
    NoHandler(String),
    /// Registered but disabled.
    Disabled(String),
    /// Registered without the `F` flag: containers cannot find the emulator.
    NotFixed(String),
}

impl Missing {
    pub fn say(&self) -> String {
        match self {
            Missing::NotMounted(p) => format!("binfmt_misc is not mounted on {}", p.display()),
            Missing::NoHandler(h) => format!("no emulator is registered with binfmt_misc ({h})"),
            Missing::Disabled(h) => format!("its binfmt_misc handler {h} is disabled"),
            Missing::NotFixed(h) => format!(
                "its binfmt_misc handler {h} lacks the F flag, so containers cannot find the emulator"
            ),
        }
    }
}

/// Check that this machine runs `target_arch` programs (a Docker architecture), as
/// registered under `root`.
pub fn check(root: &Path, target_arch: &str) -> Result<(), Missing> {
    if !root.join("status").exists() {
        return Err(Missing::NotMounted(root.to_path_buf()));
    }
    let q = qemu_arch(target_arch);
    // Debian's qemu-user-static registers `qemu-aarch64`; others register their own name
    // for the same interpreter: any enabled entry whose interpreter is qemu-<arch>.
    let mut found = None;
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name == "status" || name == "register" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let interpreter = text
            .lines()
            .find_map(|l| l.strip_prefix("interpreter "))
            .unwrap_or("");
        let file = interpreter.rsplit('/').next().unwrap_or("");
        let ours = name == format!("qemu-{q}")
            || file == format!("qemu-{q}")
            || file == format!("qemu-{q}-static")
            || file.starts_with(&format!("{q}-binfmt"));
        if !ours {
            continue;
        }
        let enabled = text.lines().next() == Some("enabled");
        let fixed = text
            .lines()
            .find_map(|l| l.strip_prefix("flags: "))
            .is_some_and(|f| f.contains('F'));
        let verdict = match (enabled, fixed) {
            (true, true) => return Ok(()),
            (false, _) => Missing::Disabled(name),
            (true, false) => Missing::NotFixed(name),
        };
        found.get_or_insert(verdict);
    }
    Err(found.unwrap_or(Missing::NoHandler(format!("qemu-{q}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(entries: &[(&str, &str)]) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "dk-binfmt-{}-{}",
            std::process::id(),
            entries.len()
                + entries
                    .iter()
                    .map(|(n, t)| n.len() * 7 + t.len())
                    .sum::<usize>()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (n, t) in entries {
            std::fs::write(d.join(n), t).unwrap();
        }
        d
    }

    #[test]
    fn a_registered_fixed_handler_runs_the_platform_and_anything_else_is_named() {
        let ok =
            "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n";
        let d = dir(&[("status", "enabled\n"), ("qemu-aarch64", ok)]);
        assert_eq!(check(&d, "arm64"), Ok(()));
        assert_eq!(
            check(&d, "s390x"),
            Err(Missing::NoHandler("qemu-s390x".into()))
        );
        let _ = std::fs::remove_dir_all(&d);

        let d = dir(&[
            ("status", "enabled\n"),
            (
                "qemu-aarch64",
                "enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: P\n",
            ),
        ]);
        assert_eq!(
            check(&d, "arm64"),
            Err(Missing::NotFixed("qemu-aarch64".into()))
        );
        let _ = std::fs::remove_dir_all(&d);

        let d = dir(&[(
            "qemu-aarch64",
            "disabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: F\n",
        )]);
        assert!(matches!(check(&d, "arm64"), Err(Missing::NotMounted(_))));
        std::fs::write(d.join("status"), "enabled\n").unwrap();
        assert_eq!(
            check(&d, "arm64"),
            Err(Missing::Disabled("qemu-aarch64".into()))
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn what_runs_natively() {
        assert!(native("amd64", "amd64"));
        assert!(native("amd64", "386"));
        assert!(!native("amd64", "arm64"));
        assert_eq!(qemu_arch("arm64"), "aarch64");
    }
}
