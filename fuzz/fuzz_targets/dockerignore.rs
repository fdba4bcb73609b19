//! The .dockerignore matcher must never panic: the first line of the input is a path, the
//! rest is the .dockerignore file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (path, patterns) = text.split_once('\n').unwrap_or((text, ""));
        if let Ok(m) = dk::ignore::Matcher::from_dockerignore(patterns, "Dockerfile") {
            let path = dk::ignore::clean(path);
            let _ = m.matches(&path);
            let _ = m.must_descend(&path);
            assert!(!m.matches("Dockerfile"), "the Dockerfile is always sent");
        }
    }
});
