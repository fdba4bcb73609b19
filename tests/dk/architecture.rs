//! Invariants of the code's shape that the compiler cannot see (ARCHITECTURE.md).

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_docker_layer_names_bollard() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let docker = src.join("docker");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(&docker))
        .filter(|f| std::fs::read_to_string(f).unwrap().contains("bollard"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(files.len() > 20, "src/ was found");
    assert!(
        offenders.is_empty(),
        "bollard is named outside src/docker/: {offenders:?}"
    );
}

#[test]
fn dk_never_runs_the_docker_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("Command::new(\"docker\")"),
            "{} runs the docker CLI",
            f.display()
        );
    }
}
