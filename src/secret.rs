//! `Secret`: a value dk must carry but never show — a registry password or token, a
//! `[[secret]]` file's content on its way to Swarm. It has no `Display` and no `Serialize`,
//! its `Debug` says only how long it is, and its text is read only by `expose`, which the
//! Docker layer calls where the value leaves dk for the daemon.
//!
//! ```compile_fail
//! let s = dk::secret::Secret::new("hunter2");
//! println!("{s}"); // no Display: a secret cannot be printed
//! ```
//!
//! ```compile_fail
//! let s = dk::secret::Secret::new("hunter2");
//! serde_json::to_string(&s).unwrap(); // no Serialize: a secret cannot reach a record
//! ```

/// A value that is never printed, logged, serialized or compared in the open.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(value: impl Into<Vec<u8>>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place it must leave dk (the daemon's API).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The value as text (lossy), for an API that wants a string.
    pub fn expose_str(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes hidden>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown, "Secret(<7 bytes hidden>)");
        assert_eq!(s.expose(), b"hunter2");
    }
}
