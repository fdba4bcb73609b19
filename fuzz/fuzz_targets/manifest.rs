//! The manifest parser and its validation must never panic, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(m) = dk::tomlfile::parse::<dk::manifest::Manifest>(text, "container.toml") {
            let _ = m.validate(text, "container.toml");
        }
        let _ = dk::tomlfile::parse::<dk::config::WorkspaceFile>(text, "dk.toml");
    }
});
