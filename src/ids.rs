//! `ImageId`: an image's content id (`sha256:<64 hex>`), as the daemon reports it. Tags move;
//! ids do not, so everything dk records or compares about an image uses the id.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ImageId(String);

impl ImageId {
    pub fn new(id: impl Into<String>) -> ImageId {
        ImageId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 12 hex digits people recognise: `sha256:0123456789ab…` -> `0123456789ab`.
    pub fn short(&self) -> &str {
        short(&self.0)
    }

    /// The 64 hex digits without the `sha256:` prefix.
    pub fn hex(&self) -> &str {
        self.0.strip_prefix("sha256:").unwrap_or(&self.0)
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ImageId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ImageId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// `N` random bytes from the kernel (a new workspace id, the secret fingerprint key).
pub fn random_bytes<const N: usize>() -> crate::error::Result<[u8; N]> {
    use std::io::Read;
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| crate::error::Error::io("reading /dev/urandom", "/dev/urandom", e))?;
    Ok(bytes)
}

/// The short form of any id-like string (image or container id).
pub fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids() {
        let id = ImageId::new(format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(id.short(), "abababababab");
        assert_eq!(id.hex().len(), 64);
        assert_eq!(short("0123"), "0123");
    }
}
