//! User-namespace remapping: when the daemon runs with `userns-remap`, a container's uid N is
//! host uid N + the start of the remap user's range in `/etc/subuid` (gid likewise with
//! `/etc/subgid`). Data directories must be owned by the shifted ids.
//!
//! `DK_USERNS_REMAP` names the remap user explicitly (`default` means `dockremap`), overriding
//! detection; `DK_SUBUID_FILE` and `DK_SUBGID_FILE` override the two file paths.

use std::path::PathBuf;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remap {
    pub uid_offset: u32,
    pub gid_offset: u32,
}

impl Remap {
    pub const NONE: Remap = Remap {
        uid_offset: 0,
        gid_offset: 0,
    };

    pub fn uid(&self, container_uid: u32) -> u32 {
        self.uid_offset + container_uid
    }

    pub fn gid(&self, container_gid: u32) -> u32 {
        self.gid_offset + container_gid
    }
}

/// The first id of `user`'s range in a subuid/subgid file.
pub fn range_start(text: &str, user: &str) -> Option<u32> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| {
            let mut parts = l.trim().split(':');
            let name = parts.next()?;
            let start = parts.next()?.parse().ok()?;
            (name == user).then_some(start)
        })
}

/// The remap in force: from `DK_USERNS_REMAP`, else from whether the daemon reports
/// `name=userns` among its security options (`daemon_userns`).
pub fn detect(daemon_userns: bool) -> Result<Remap> {
    let user = match std::env::var("DK_USERNS_REMAP")
        .ok()
        .filter(|s| !s.is_empty())
    {
        Some(u) if u == "default" => "dockremap".to_string(),
        Some(u) => u,
        None if daemon_userns => "dockremap".to_string(),
        None => return Ok(Remap::NONE),
    };
    let file = |var: &str, default: &str| -> PathBuf {
        std::env::var(var)
            .ok()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(default))
    };
    let read = |path: PathBuf| -> Result<u32> {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        range_start(&text, &user).ok_or_else(|| {
            Error::host(
                format!(
                    "the daemon remaps user namespaces to `{user}`, but {} has no line for `{user}`",
                    path.display()
                ),
                Some(format!(
                    "add `{user}:<start>:65536` to it (see dockerd's --userns-remap)"
                )),
            )
        })
    };
    Ok(Remap {
        uid_offset: read(file("DK_SUBUID_FILE", "/etc/subuid"))?,
        gid_offset: read(file("DK_SUBGID_FILE", "/etc/subgid"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_users_range() {
        let text = "# comment\nalice:100000:65536\ndockremap:200000:65536\n";
        assert_eq!(range_start(text, "dockremap"), Some(200000));
        assert_eq!(range_start(text, "bob"), None);
        let r = Remap {
            uid_offset: 200000,
            gid_offset: 300000,
        };
        assert_eq!(r.uid(1000), 201000);
        assert_eq!(r.gid(1000), 301000);
    }
}
