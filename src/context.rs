//! The build context: the node directory filtered by `.dockerignore`, as a sorted list of
//! entries with content digests (cheaply, through a size+mtime+inode cache), and the
//! deterministic tar that is streamed to the daemon from that list.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Error, Result};
use crate::ignore::{MatchInfo, Matcher};

/// Every file in the tar gets this mtime (2000-01-01), so that images do not depend on
/// when files were touched.
pub const TAR_MTIME: u64 = 946_684_800;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    File,
    Dir,
    Symlink,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Slash-separated path relative to the node directory.
    pub rel: String,
    pub kind: Kind,
    /// Permission bits (including setuid/setgid/sticky).
    pub mode: u32,
    pub size: u64,
    /// Target of a symlink, stored as is (never followed).
    pub link: Option<String>,
    /// blake3 of a file's content.
    pub digest: Option<[u8; 32]>,
}

impl Entry {
    /// A short fingerprint of what the build sees of this entry (kind, mode, content or
    /// link target), used in records to tell which file changed.
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        self.hash_into(&mut h);
        h.finalize().to_hex()[..16].to_string()
    }

    pub fn hash_into(&self, h: &mut blake3::Hasher) {
        let kind = match self.kind {
            Kind::File => b'f',
            Kind::Dir => b'd',
            Kind::Symlink => b'l',
        };
        h.update(&[kind]);
        h.update(self.rel.as_bytes());
        h.update(&[0]);
        h.update(&self.mode.to_le_bytes());
        if let Some(d) = &self.digest {
            h.update(&self.size.to_le_bytes());
            h.update(d);
        }
        if let Some(l) = &self.link {
            h.update(l.as_bytes());
            h.update(&[0]);
        }
    }
}

/// Cached digests keyed by path, valid while size, mtime, ctime and inode are unchanged.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DigestCache {
    files: BTreeMap<String, CachedDigest>,
    #[serde(skip)]
    dirty: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CachedDigest {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    digest: String,
}

impl DigestCache {
    pub fn load(path: &Path) -> DigestCache {
        fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let bytes = serde_json::to_vec(self).expect("serialize digest cache");
        crate::records::write_atomic(path, &bytes)
    }

    /// The blake3 digest of the file at `path` (cached under `rel`), hashing it only when
    /// its metadata changed since it was cached.
    pub fn digest(&mut self, rel: &str, path: &Path, meta: &fs::Metadata) -> Result<[u8; 32]> {
        if let Some(d) = self.lookup(rel, meta) {
            return Ok(d);
        }
        let d = hash_file(path)?;
        self.store(rel, meta, &d);
        Ok(d)
    }

    fn lookup(&self, rel: &str, meta: &fs::Metadata) -> Option<[u8; 32]> {
        let c = self.files.get(rel)?;
        if c.size == meta.size()
            && c.mtime_ns == mtime_ns(meta)
            && c.ctime_ns == ctime_ns(meta)
            && c.ino == meta.ino()
        {
            let mut out = [0u8; 32];
            let bytes = hex_decode(&c.digest)?;
            if bytes.len() == 32 {
                out.copy_from_slice(&bytes);
                return Some(out);
            }
        }
        None
    }

    fn store(&mut self, rel: &str, meta: &fs::Metadata, digest: &[u8; 32]) {
        // A file modified within the last two seconds may change again within the same
        // timestamp tick: do not trust its metadata next time (git's "racy" rule).
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        if now - mtime_ns(meta) < 2_000_000_000 || now - ctime_ns(meta) < 2_000_000_000 {
            if self.files.remove(rel).is_some() {
                self.dirty = true;
            }
            return;
        }
        self.files.insert(
            rel.to_string(),
            CachedDigest {
                size: meta.size(),
                mtime_ns: mtime_ns(meta),
                ctime_ns: ctime_ns(meta),
                ino: meta.ino(),
                digest: hex(digest),
            },
        );
        self.dirty = true;
    }

    fn retain(&mut self, keep: &std::collections::HashSet<String>) {
        let before = self.files.len();
        self.files.retain(|k, _| keep.contains(k));
        if self.files.len() != before {
            self.dirty = true;
        }
    }
}

fn mtime_ns(m: &fs::Metadata) -> i128 {
    m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128
}

fn ctime_ns(m: &fs::Metadata) -> i128 {
    m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The scanned context of one node.
#[derive(Debug, Clone)]
pub struct Context {
    pub dir: PathBuf,
    pub entries: Vec<Entry>,
    /// Entries the CLI's reading of `.dockerignore` keeps and BuildKit's leaves out.
    pub kept_anyway: Vec<String>,
}

/// Read `.dockerignore` of `dir` (if any) into a matcher. Errors are located in the file.
pub fn load_ignore(dir: &Path, rel_dir: &str) -> Result<Matcher> {
    let path = dir.join(".dockerignore");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    Matcher::from_dockerignore(&text, "Dockerfile").map_err(|e| {
        Error::definition(
            Diagnostic::new(format!("{rel_dir}/.dockerignore"), e.message).at_line(e.line),
        )
    })
}

/// Walk `dir` and list what the build context holds, hashing file contents (reusing the
/// cache when metadata is unchanged).
pub fn scan(dir: &Path, ignore: &Matcher, cache: &mut DigestCache) -> Result<Context> {
    let mut entries = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<(String, MatchInfo)> = Vec::new();
    let mut walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    while let Some(item) = walker.next() {
        let item = item.map_err(|e| {
            let path = e
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| dir.to_path_buf());
            Error::io(
                "read",
                path,
                e.into_io_error()
                    .unwrap_or_else(|| io::Error::other("walk error")),
            )
        })?;
        let rel = item
            .path()
            .strip_prefix(dir)
            .expect("walk stays under its root")
            .to_string_lossy()
            .replace('\\', "/");
        let ft = item.file_type();
        // The CLI's walk: each path inherits its parent directory's pattern results.
        while stack
            .last()
            .is_some_and(|(d, _): &(String, MatchInfo)| !rel.starts_with(&format!("{d}/")))
        {
            stack.pop();
        }
        let (skip, info) = ignore.matches_with_parent(&rel, stack.last().map(|(_, i)| i));
        if ft.is_dir() {
            stack.push((rel.clone(), info));
        }
        if skip {
            if ft.is_dir() && (!ignore.has_exclusions() || !ignore.must_descend(&rel)) {
                walker.skip_current_dir();
            }
            continue;
        }
        let meta = item
            .path()
            .symlink_metadata()
            .map_err(|e| Error::io("stat", item.path(), e))?;
        let mode = meta.permissions().mode() & 0o7777;
        let entry = if ft.is_symlink() {
            let target =
                fs::read_link(item.path()).map_err(|e| Error::io("readlink", item.path(), e))?;
            Entry {
                rel,
                kind: Kind::Symlink,
                mode,
                size: 0,
                link: Some(target.to_string_lossy().to_string()),
                digest: None,
            }
        } else if ft.is_dir() {
            Entry {
                rel,
                kind: Kind::Dir,
                mode,
                size: 0,
                link: None,
                digest: None,
            }
        } else if ft.is_file() {
            let digest = cache.digest(&rel, item.path(), &meta)?;
            seen.insert(rel.clone());
            Entry {
                rel,
                kind: Kind::File,
                mode,
                size: meta.size(),
                link: None,
                digest: Some(digest),
            }
        } else {
            // Sockets, fifos and devices cannot be part of an image context.
            tracing::debug!("skipping special file {}", item.path().display());
            continue;
        };
        entries.push(entry);
    }
    cache.retain(&seen);
    Ok(Context {
        dir: dir.to_path_buf(),
        entries,
        kept_anyway: ignore.kept_anyway().to_vec(),
    })
}

/// Feed a file's bytes, in 64 KiB chunks, to `sink`.
pub fn read_chunks(path: &Path, mut sink: impl FnMut(&[u8])) -> Result<()> {
    let mut f = fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            return Ok(());
        }
        sink(&buf[..n]);
    }
}

pub fn hash_file(path: &Path) -> Result<[u8; 32]> {
    let mut h = blake3::Hasher::new();
    read_chunks(path, |b| {
        h.update(b);
    })?;
    Ok(*h.finalize().as_bytes())
}

impl Context {
    pub fn total_size(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }

    /// Write the context as a tar to `out`, with `dockerfile` as the content of the
    /// `Dockerfile` entry. File contents are re-hashed while they are sent: a file that
    /// changed since the scan fails the build instead of producing an image that does not
    /// match its recorded inputs.
    pub fn write_tar<W: Write>(&self, dockerfile: &[u8], out: W) -> io::Result<W> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        for e in &self.entries {
            let mut header = tar::Header::new_gnu();
            header.set_mode(e.mode);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(TAR_MTIME);
            match e.kind {
                Kind::Dir => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    tar.append_data(&mut header, format!("{}/", e.rel), io::empty())?;
                }
                Kind::Symlink => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    tar.append_link(&mut header, &e.rel, e.link.as_deref().unwrap_or(""))?;
                }
                Kind::File if e.rel == "Dockerfile" => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(dockerfile.len() as u64);
                    tar.append_data(&mut header, &e.rel, dockerfile)?;
                }
                Kind::File => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(e.size);
                    let path = self.dir.join(&e.rel);
                    let file = fs::File::open(&path)?;
                    let mut reader = HashingReader {
                        inner: file.take(e.size),
                        hasher: blake3::Hasher::new(),
                        read: 0,
                    };
                    tar.append_data(&mut header, &e.rel, &mut reader)?;
                    if reader.read != e.size
                        || Some(*reader.hasher.finalize().as_bytes()) != e.digest
                    {
                        return Err(io::Error::other(format!(
                            "{} changed while it was being sent to the daemon; run the build again",
                            path.display()
                        )));
                    }
                }
            }
        }
        tar.into_inner()
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
    read: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write(dir: &Path, rel: &str, content: &str) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    #[test]
    fn scan_filters_sorts_and_keeps_links() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "Dockerfile", "FROM scratch\n");
        write(d, ".dockerignore", "dl\n*.tmp\n");
        write(d, "files/b", "b");
        write(d, "files/a", "a");
        write(d, "dl/x.deb", "x");
        write(d, "junk.tmp", "j");
        symlink("/etc/passwd", d.join("files/link")).unwrap();
        let ig = load_ignore(d, "n").unwrap();
        let mut cache = DigestCache::default();
        let ctx = scan(d, &ig, &mut cache).unwrap();
        let rels: Vec<&str> = ctx.entries.iter().map(|e| e.rel.as_str()).collect();
        assert_eq!(
            rels,
            vec![
                ".dockerignore",
                "Dockerfile",
                "files",
                "files/a",
                "files/b",
                "files/link"
            ]
        );
        let link = ctx.entries.iter().find(|e| e.rel == "files/link").unwrap();
        assert_eq!(link.kind, Kind::Symlink);
        assert_eq!(link.link.as_deref(), Some("/etc/passwd"));
    }

    #[test]
    fn tar_is_deterministic_and_uses_the_given_dockerfile() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "Dockerfile", "FROM baseline\n");
        write(d, "files/a", "hello");
        let ig = load_ignore(d, "n").unwrap();
        let ctx = scan(d, &ig, &mut DigestCache::default()).unwrap();
        let a = ctx.write_tar(b"FROM sha256:00\n", Vec::new()).unwrap();
        let b = ctx.write_tar(b"FROM sha256:00\n", Vec::new()).unwrap();
        assert_eq!(a, b);
        let mut ar = tar::Archive::new(&a[..]);
        let mut found = BTreeMap::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let mut s = String::new();
            e.read_to_string(&mut s).unwrap();
            found.insert(e.path().unwrap().to_string_lossy().to_string(), s);
        }
        assert_eq!(found["Dockerfile"], "FROM sha256:00\n");
        assert_eq!(found["files/a"], "hello");
    }

    #[test]
    fn changed_file_during_send_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "Dockerfile", "FROM a\n");
        write(d, "f", "one");
        let ctx = scan(d, &Matcher::default(), &mut DigestCache::default()).unwrap();
        write(d, "f", "two");
        let err = ctx.write_tar(b"FROM a\n", Vec::new()).unwrap_err();
        assert!(err.to_string().contains("changed while"), "{err}");
    }
}
