//! The Dockerfile parser, ARG expansion and the span rewrite must never panic, and a rewrite
//! with no replacements must give the text back unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut args = BTreeMap::new();
        args.insert("BASE".to_string(), "baseline".to_string());
        if let Ok(df) = dk::dockerfile::Dockerfile::parse(text, &args) {
            assert_eq!(df.rewrite(&[]), text);
            let spans: Vec<_> = df
                .stages
                .iter()
                .map(|s| (s.image_span.clone(), "sha256:x".to_string()))
                .collect();
            let _ = df.rewrite(&spans);
            for s in &df.stages {
                let _ = dk::dockerfile::ImageRef::parse(&s.image).pinning();
            }
            for i in &df.instructions {
                let _ = i.flags();
                let _ = i.is_exec_form();
            }
        }
    }
});
