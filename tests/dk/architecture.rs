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

/// The modules of `src/` (a directory module counts as one) and the modules each uses.
fn module_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let module_of = |f: &Path| -> Option<String> {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()?
            .as_os_str()
            .to_string_lossy()
            .to_string();
        let name = first.trim_end_matches(".rs").to_string();
        (name != "lib" && name != "main").then_some(name)
    };
    let mut texts: std::collections::BTreeMap<String, String> = Default::default();
    for f in &files {
        if let Some(m) = module_of(f) {
            let text: String = std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            texts.entry(m).or_default().push_str(&text);
        }
    }
    let names: std::collections::BTreeSet<String> = texts.keys().cloned().collect();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = std::collections::BTreeMap::new();
    for (m, text) in &texts {
        let mut deps = std::collections::BTreeSet::new();
        for part in text.split("crate::").skip(1) {
            if part.starts_with('{') {
                // `use crate::{a::X, b, c::{..}}`: the first segment of each item.
                let mut depth = 0;
                let mut item_start = true;
                for (i, c) in part.char_indices() {
                    match c {
                        '{' => {
                            depth += 1;
                            if depth == 1 {
                                item_start = true;
                                continue;
                            }
                        }
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => {
                            item_start = true;
                            continue;
                        }
                        _ => {}
                    }
                    if depth == 1 && item_start && !c.is_whitespace() {
                        deps.insert(ident(&part[i..]));
                        item_start = false;
                    }
                }
            } else {
                deps.insert(ident(part));
            }
        }
        deps.retain(|d| d != m && names.contains(d));
        out.insert(m.clone(), deps);
    }
    out
}

#[test]
fn modules_follow_the_declared_layers_without_cycles() {
    let imports = module_imports();
    assert!(imports.len() > 40, "src/ was parsed: {imports:?}");
    let layer_of = |m: &str| dk::LAYERS.iter().position(|(_, ms)| ms.contains(&m));
    // Every module in exactly one layer; every layer's module exists.
    for m in imports.keys() {
        let n = dk::LAYERS
            .iter()
            .filter(|(_, ms)| ms.contains(&m.as_str()))
            .count();
        assert_eq!(
            n, 1,
            "module `{m}` must be in exactly one of dk::LAYERS (src/lib.rs)"
        );
    }
    for (layer, ms) in dk::LAYERS {
        for m in *ms {
            assert!(
                imports.contains_key(*m),
                "layer {layer} names `{m}`, which is not in src/"
            );
        }
    }
    // No use upward.
    let mut upward = Vec::new();
    for (m, deps) in &imports {
        for d in deps {
            if layer_of(d) > layer_of(m) {
                upward.push(format!(
                    "{m} ({}) uses {d} ({})",
                    dk::LAYERS[layer_of(m).unwrap()].0,
                    dk::LAYERS[layer_of(d).unwrap()].0
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the layer order:\n{}",
        upward.join("\n")
    );
    // No cycle: depth-first search with colours.
    fn visit(
        m: &str,
        imports: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        state: &mut std::collections::BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(1) => {
                let at = path.iter().position(|p| p == m).unwrap();
                let mut cycle = path[at..].to_vec();
                cycle.push(m.to_string());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in &imports[m] {
            if let Some(c) = visit(d, imports, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = Default::default();
    for m in imports.keys() {
        if let Some(cycle) = visit(m, &imports, &mut state, &mut Vec::new()) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_parser_of_this_test_sees_grouped_and_path_imports() {
    let imports = module_imports();
    // `use crate::converge::{...}` and `crate::units::now_unix()` in an expression.
    assert!(
        imports["live"].contains("converge"),
        "{:?}",
        imports["live"]
    );
    assert!(imports["lock"].contains("units"), "{:?}", imports["lock"]);
    assert!(imports["app"].contains("engine"), "{:?}", imports["app"]);
}

#[test]
fn architecture_md_shows_the_layers_of_the_code() {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
        .unwrap();
    let table: Vec<(String, Vec<String>)> = md
        .lines()
        .skip_while(|l| !l.starts_with("| layer | modules |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (
                cells[0].to_string(),
                cells[1]
                    .split_whitespace()
                    .map(|m| m.trim_matches(|c| c == '`' || c == ',').to_string())
                    .collect(),
            )
        })
        .collect();
    let code: Vec<(String, Vec<String>)> = dk::LAYERS
        .iter()
        .rev()
        .map(|(l, ms)| (l.to_string(), ms.iter().map(|m| m.to_string()).collect()))
        .collect();
    assert_eq!(
        table, code,
        "ARCHITECTURE.md's layer table (top layer first) must match dk::LAYERS"
    );
}
