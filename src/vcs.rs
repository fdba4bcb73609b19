//! The workspace's VCS revision, for the `org.opencontainers.image.revision` label.
//! Read from `.git` directly (HEAD, loose refs, packed-refs); `None` outside git. And
//! `dk update --commit`: one commit of exactly the files it re-pinned (through `git`).

use std::fs;
use std::path::Path;

pub fn git_revision(start: &Path) -> Option<String> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let git = d.join(".git");
        if git.is_dir() {
            return read_head(&git);
        }
        if git.is_file() {
            // A worktree or submodule: `gitdir: <path>`.
            let text = fs::read_to_string(&git).ok()?;
            let target = text.strip_prefix("gitdir:")?.trim();
            return read_head(&d.join(target));
        }
        dir = d.parent();
    }
    None
}

fn read_head(git: &Path) -> Option<String> {
    let head = fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:") else {
        return valid(head);
    };
    let reference = reference.trim();
    if let Ok(v) = fs::read_to_string(git.join(reference)) {
        return valid(v.trim());
    }
    // Worktrees keep shared refs in the common directory.
    let common = fs::read_to_string(git.join("commondir"))
        .ok()
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|| git.to_path_buf());
    if let Ok(v) = fs::read_to_string(common.join(reference)) {
        return valid(v.trim());
    }
    let packed = fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (hash, name) = l.split_once(' ')?;
        (name == reference).then(|| valid(hash)).flatten()
    })
}

fn valid(hash: &str) -> Option<String> {
    (hash.len() >= 40 && hash.chars().all(|c| c.is_ascii_hexdigit())).then(|| hash.to_string())
}

fn git(root: &Path, args: &[&str]) -> std::result::Result<std::process::Output, String> {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))
}

/// Are changes staged in the repository of `root`? (`dk update --commit` refuses then.)
/// `Err` outside a git repository.
pub fn staged_changes(root: &Path) -> std::result::Result<bool, String> {
    let out = git(root, &["diff", "--cached", "--quiet"])?;
    match out.status.code() {
        Some(0) => Ok(false),
        Some(1) => Ok(true),
        _ => Err(String::from_utf8_lossy(&out.stderr).trim().to_string()),
    }
}

/// Commit exactly `files` (relative to `root`) with `message`; the new revision.
pub fn commit_files(
    root: &Path,
    files: &[String],
    message: &str,
) -> std::result::Result<String, String> {
    let mut add = vec!["add", "--"];
    add.extend(files.iter().map(String::as_str));
    let out = git(root, &add)?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    // A machine with no git identity (a server's root) commits as dk.
    let identity = git(root, &["config", "user.email"])?;
    let mut commit = if identity.status.success() {
        vec![]
    } else {
        vec!["-c", "user.name=dk update", "-c", "user.email=dk@localhost"]
    };
    commit.extend(["commit", "--quiet", "-m", message, "--only", "--"]);
    commit.extend(files.iter().map(String::as_str));
    let out = git(root, &commit)?;
    if !out.status.success() {
        let mut m = String::from_utf8_lossy(&out.stderr).trim().to_string();
        m.push_str(String::from_utf8_lossy(&out.stdout).trim());
        return Err(m);
    }
    let out = git(root, &["rev-parse", "--short=12", "HEAD"])?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_loose_and_packed_refs() {
        let tmp = tempfile::tempdir().unwrap();
        let git = tmp.path().join(".git");
        fs::create_dir_all(git.join("refs/heads")).unwrap();
        fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let h = "a".repeat(40);
        fs::write(
            git.join("packed-refs"),
            format!("# pack-refs\n{h} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(
            git_revision(&tmp.path().join("sub")).as_deref(),
            Some(h.as_str())
        );
        let h2 = "b".repeat(40);
        fs::write(git.join("refs/heads/main"), format!("{h2}\n")).unwrap();
        assert_eq!(git_revision(tmp.path()).as_deref(), Some(h2.as_str()));
    }
}
