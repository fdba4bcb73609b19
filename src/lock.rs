//! The workspace lock: one writing `dk` at a time per workspace. A second run waits (saying
//! for whom) or, with `--no-wait`, fails at once. The lock is an OS file lock, so a killed
//! `dk` releases it.

use crate::state::StateDir;
use std::fs::{self, File, OpenOptions, TryLockError};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    command: String,
    since: u64,
}

/// Held for as long as the value lives.
#[derive(Debug)]
pub struct WorkspaceLock {
    _file: File,
}

/// Take the lock of the workspace whose state lives in `state`.
/// `on_wait` is told who holds it before waiting.
pub fn acquire(
    state: &StateDir,
    command: &str,
    wait: bool,
    on_wait: impl FnOnce(&str),
) -> Result<WorkspaceLock> {
    fs::create_dir_all(state.root()).map_err(|e| Error::io("create", state.root(), e))?;
    let path = state.lock_file();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let who = describe_holder(&path);
            if !wait {
                return Err(Error::Locked(format!(
                    "the workspace is in use by {who}\n  help: wait for it to finish, or run again without --no-wait to queue behind it"
                )));
            }
            on_wait(&who);
            file.lock().map_err(|e| Error::io("lock", &path, e))?;
        }
        Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
    }
    let holder = Holder {
        pid: std::process::id(),
        command: command.to_string(),
        since: crate::units::now_unix(),
    };
    // Who holds the lock goes into the lock file itself: it is only for the message a
    // waiting dk prints, so it needs neither a sync nor a rename (a torn read just says
    // "another dk"). Written over the old holder and padded with spaces (JSON's trailing
    // whitespace), never truncated: ext4 flushes a file truncated to zero (auto_da_alloc),
    // which cost a no-op `dk build` 10–90 ms.
    let mut bytes = serde_json::to_vec(&holder).expect("serialize");
    let old_len = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
    bytes.resize(bytes.len().max(old_len), b' ');
    let written = {
        use std::os::unix::fs::FileExt;
        file.write_all_at(&bytes, 0)
    };
    written.map_err(|e| Error::io("write", &path, e))?;
    Ok(WorkspaceLock { _file: file })
}

fn describe_holder(lock_file: &std::path::Path) -> String {
    let h: Option<Holder> = fs::read(lock_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    match h {
        Some(h) => {
            let age = crate::units::now_unix().saturating_sub(h.since);
            format!("`{}` (pid {}, for {age}s)", h.command, h.pid)
        }
        None => "another dk".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_without_wait_and_names_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::new(tmp.path().to_path_buf());
        let _a = acquire(&state, "dk build", true, |_| {}).unwrap();
        let err = acquire(&state, "dk test", false, |_| {}).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("dk build"), "{msg}");
        assert!(msg.contains(&std::process::id().to_string()), "{msg}");
    }

    #[test]
    fn lock_is_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::new(tmp.path().to_path_buf());
        drop(acquire(&state, "dk build", true, |_| {}).unwrap());
        acquire(&state, "dk build", false, |_| {}).unwrap();
    }
}
