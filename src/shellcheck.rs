//! ShellCheck on `RUN` lines, the way Hadolint runs its embedded copy: each shell-form RUN
//! becomes a script with the stage's shell as its `#!` line and the stage's ARG/ENV names
//! (and the proxy variables) exported first, so that they do not count as unset. Findings
//! are reported at the RUN's line as `SC<code>`. dk runs the machine's `shellcheck` binary,
//! all scripts of a lint run in a few processes; without one, the checks are skipped and
//! the caller says so once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::dockerfile::Dockerfile;

/// A RUN line to check: where it is and the script made of it.
#[derive(Debug, Clone)]
pub struct Script {
    pub node: usize,
    pub line: usize,
    pub text: String,
}

/// One ShellCheck finding, mapped back to its RUN.
#[derive(Debug, Clone)]
pub struct Comment {
    pub node: usize,
    pub line: usize,
    pub code: String,
    pub message: String,
}

/// What Hadolint excludes: the ash warning, and `source` directives a Dockerfile cannot give.
const EXCLUDED: &str = "SC2187,SC1090,SC1091";

const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

const SUPPORTED_SHEBANGS: [&str; 6] = [
    "#!/bin/sh",
    "#!/bin/bash",
    "#!/bin/ksh",
    "#!/usr/bin/env sh",
    "#!/usr/bin/env bash",
    "#!/usr/bin/env ksh",
];

/// The scripts of node `node`'s Dockerfile: one per shell-form RUN (ONBUILD ones with the
/// default shell), skipping non-POSIX shells (PowerShell, cmd).
pub fn scripts(node: usize, df: &Dockerfile) -> Vec<Script> {
    struct StageOpts {
        shell: String,
        vars: BTreeSet<String>,
    }
    let default = || StageOpts {
        shell: "/bin/sh -c".to_string(),
        vars: PROXY_VARS.iter().map(|v| v.to_string()).collect(),
    };
    // Options per stage alias, for stages built on an earlier one.
    let mut by_alias: Vec<(String, String, BTreeSet<String>)> = Vec::new();
    let mut cur = default();
    let mut cur_alias: Option<String> = None;
    let mut out = Vec::new();
    for ins in &df.instructions {
        let (keyword, args, onbuild) = if ins.keyword == "ONBUILD" {
            let a = ins.args.trim_start();
            let end = a.find(char::is_whitespace).unwrap_or(a.len());
            (a[..end].to_ascii_uppercase(), a[end..].trim_start(), true)
        } else {
            (ins.keyword.clone(), ins.args.as_str(), false)
        };
        match keyword.as_str() {
            "FROM" if !onbuild => {
                if let Some(a) = cur_alias.take() {
                    by_alias.push((a, cur.shell.clone(), cur.vars.clone()));
                }
                let stage = ins.stage.and_then(|s| df.stages.get(s));
                let image = stage
                    .map(|s| s.image_raw.to_ascii_lowercase())
                    .unwrap_or_default();
                cur = match by_alias.iter().find(|(a, _, _)| *a == image) {
                    Some((_, shell, vars)) => StageOpts {
                        shell: shell.clone(),
                        vars: vars.clone(),
                    },
                    None => default(),
                };
                cur_alias = stage.and_then(|s| s.alias.clone());
            }
            "ARG" if !onbuild => {
                let a = args.trim();
                cur.vars
                    .insert(a.split('=').next().unwrap_or(a).trim().to_string());
            }
            "ENV" if !onbuild => {
                cur.vars
                    .extend(crate::hadolint::env_pairs(args).into_iter().map(|(k, _)| k));
            }
            "SHELL" if !onbuild => {
                let a = args.trim();
                cur.shell = serde_json::from_str::<Vec<String>>(a)
                    .map(|v| v.join(" "))
                    .unwrap_or_else(|_| a.to_string());
            }
            "RUN" => {
                let mut rest = args.trim_start();
                while let Some(after) = rest.strip_prefix("--") {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    rest = after[end..].trim_start();
                }
                let exec_form =
                    rest.starts_with('[') && serde_json::from_str::<Vec<String>>(rest).is_ok();
                let (shell, vars) = if onbuild {
                    let d = default();
                    (d.shell, d.vars)
                } else {
                    (cur.shell.clone(), cur.vars.clone())
                };
                let non_posix = ["pwsh", "powershell", "cmd"]
                    .iter()
                    .any(|p| shell.contains(p));
                let bad_shebang = rest.starts_with("#!")
                    && !SUPPORTED_SHEBANGS.iter().any(|s| rest.starts_with(s));
                if exec_form || non_posix || bad_shebang || !ins.heredocs.is_empty() {
                    continue;
                }
                let mut text = format!(
                    "#!{}\n",
                    shell.split_whitespace().next().unwrap_or("/bin/sh")
                );
                for v in &vars {
                    text.push_str(&format!("export {v}=1\n"));
                }
                text.push_str(rest);
                text.push('\n');
                out.push(Script {
                    node,
                    line: ins.line,
                    text,
                });
            }
            _ => {}
        }
    }
    out
}

/// Is `shellcheck` installed?
pub fn available() -> bool {
    Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Check `scripts` (written under `dir`, removed after), a few processes in parallel.
pub fn run(scripts: &[Script], dir: &Path) -> std::io::Result<Vec<Comment>> {
    if scripts.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir)?;
    let paths: Vec<std::path::PathBuf> = scripts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let p = dir.join(format!("run{i}.sh"));
            std::fs::write(&p, &s.text).map(|_| p)
        })
        .collect::<std::io::Result<_>>()?;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let chunk = paths.len().div_ceil(workers).max(1);
    let results: Vec<std::io::Result<Vec<(usize, usize, String)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                scope.spawn(move || -> std::io::Result<Vec<(usize, usize, String)>> {
                    let out = Command::new("shellcheck")
                        .args(["-f", "json1", "--norc", "-S", "style", "-e", EXCLUDED])
                        .args(part)
                        .output()?;
                    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
                        .map_err(|e| std::io::Error::other(format!("shellcheck's output: {e}")))?;
                    let mut found = Vec::new();
                    for cm in v["comments"].as_array().into_iter().flatten() {
                        let file = cm["file"].as_str().unwrap_or_default();
                        let Some(idx) = part.iter().position(|p| p.to_str() == Some(file)) else {
                            continue;
                        };
                        found.push((
                            c * chunk + idx,
                            cm["code"].as_u64().unwrap_or(0) as usize,
                            cm["message"].as_str().unwrap_or_default().to_string(),
                        ));
                    }
                    Ok(found)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("shellcheck worker panicked")))
            })
            .collect()
    });
    let _ = std::fs::remove_dir_all(dir);
    let mut out = Vec::new();
    for r in results {
        for (i, code, message) in r? {
            let s = &scripts[i];
            out.push(Comment {
                node: s.node,
                line: s.line,
                code: format!("SC{code}"),
                message,
            });
        }
    }
    Ok(out)
}
