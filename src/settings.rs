//! What `dk config` shows: the effective values of the workspace a site would change
//! (dk.toml, the manifests, `dk.local.toml`, `DK_NAMESPACE`), each with its origin.

use std::path::Path;

use crate::local::LOCAL_FILE;
use crate::tomlfile;
use crate::workspace::Workspace;

/// One value of the effective configuration, with where it comes from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfigEntry {
    /// `data_root`, `network.live.subnet`, `web.run.env.TOKEN`, `web.mount./srv/www`…
    pub key: String,
    pub value: String,
    /// `dk.toml:7`, `dk.local.toml:2`, `containers/web/container.toml:9`, `DK_NAMESPACE`,
    /// or `default`.
    pub origin: String,
}

/// The effective values of the workspace a site would change, with their origins: what
/// `dk config` prints.
/// An env value or build arg as `dk config` shows it: one set in dk.local.toml is what a
/// site keeps out of git (tokens, passwords), so it is never printed.
fn site_value(value: &str, origin: &str) -> String {
    if origin.starts_with(LOCAL_FILE) {
        format!(
            "(hidden: {} characters from {LOCAL_FILE})",
            value.chars().count()
        )
    } else {
        value.to_string()
    }
}

pub fn config_entries(ws: &Workspace) -> Vec<ConfigEntry> {
    use crate::manifest::MountSource;
    let ws_text =
        std::fs::read_to_string(ws.root.join(crate::config::WORKSPACE_FILE)).unwrap_or_default();
    let origin = |key: &str, text: &str, file: &str, text_key: &str| -> String {
        if let Some(o) = ws.origins.get(key) {
            return o.clone();
        }
        match tomlfile::line_of(text, text_key) {
            Some(line) => format!("{file}:{line}"),
            None => "default".to_string(),
        }
    };
    let mut out = Vec::new();
    let mut add =
        |key: String, value: String, origin: String| out.push(ConfigEntry { key, value, origin });
    let dkt = crate::config::WORKSPACE_FILE;
    let namespace_origin = if std::env::var("DK_NAMESPACE").is_ok_and(|v| !v.is_empty()) {
        "DK_NAMESPACE".to_string()
    } else {
        origin("namespace", &ws_text, dkt, "namespace")
    };
    add("namespace".into(), ws.namespace.clone(), namespace_origin);
    let rel = |p: &Path| ws.rel(p).to_string();
    add(
        "data_root".into(),
        rel(&ws.data_root),
        origin("data_root", &ws_text, dkt, "data_root"),
    );
    add(
        "state_dir".into(),
        rel(ws.state.root()),
        origin("state_dir", &ws_text, dkt, "state_dir"),
    );
    for (role, net) in [("live", &ws.live_network), ("test", &ws.test_network)] {
        let key = format!("network.{role}.name");
        add(
            key.clone(),
            net.name.clone(),
            origin(&key, &ws_text, dkt, &key),
        );
        let key = format!("network.{role}.subnet");
        let value = net
            .subnet
            .map(|s| s.to_string())
            .unwrap_or_else(|| "(Docker chooses a free one)".into());
        add(key.clone(), value, origin(&key, &ws_text, dkt, &key));
    }
    // One entry per directory: another platform's node has the same settings.
    for node in ws.nodes.iter().filter(|n| n.variant_of.is_none()) {
        let path = node.manifest_path.clone().unwrap_or_default();
        let text = std::fs::read_to_string(node.dir.join(crate::manifest::MANIFEST_FILE))
            .unwrap_or_default();
        let name = &node.name;
        for (k, v) in &node.build_args {
            let key = format!("build.args.{k}");
            let o = match tomlfile::line_of(&text, &key) {
                Some(line) => format!("{path}:{line}"),
                None => origin(&key, &ws_text, dkt, &key),
            };
            add(format!("{name}.{key}"), site_value(v, &o), o);
        }
        let r = &node.run;
        let limit = |v: Option<String>| v.unwrap_or_else(|| "(none)".into());
        let resolved = [
            ("read_only", r.read_only.to_string()),
            ("memory", limit(r.memory.map(crate::units::human_size))),
            ("cpus", limit(r.cpus.map(|c| c.to_string()))),
            ("pids", limit(r.pids.map(|p| p.to_string()))),
            (
                "restart",
                format!(
                    "{}{}",
                    r.restart.policy.as_deref().unwrap_or("on-failure"),
                    r.restart
                        .max_retries
                        .filter(|_| r.restart.policy.as_deref() == Some("on-failure"))
                        .map(|n| format!(" (max {n} retries)"))
                        .unwrap_or_default()
                ),
            ),
            (
                "log",
                format!(
                    "{}{}",
                    r.log.driver.as_deref().unwrap_or("json"),
                    r.log
                        .max_size
                        .as_ref()
                        .map(|s| format!(", max size {}", s.text()))
                        .unwrap_or_default()
                ),
            ),
            (
                "init",
                r.init
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| "unless the image's entrypoint is an init".into()),
            ),
            (
                "stop_timeout",
                r.stop_timeout
                    .map(crate::units::human_duration)
                    .unwrap_or_else(|| "10s".into()),
            ),
        ];
        for (k, value) in resolved {
            // The manifest's [run], else dk.toml's [defaults], else dk's default.
            let o = match tomlfile::line_of(&text, &format!("run.{k}")) {
                Some(line) => format!("{path}:{line}"),
                None => {
                    let key = format!("defaults.{k}");
                    origin(&key, &ws_text, dkt, &key)
                }
            };
            add(format!("{name}.run.{k}"), value, o);
        }
        let run = &node.manifest.run;
        for (k, v) in &run.env {
            let key = format!("{name}.run.env.{k}");
            let o = origin(&key, &text, &path, &format!("run.env.{k}"));
            add(key, site_value(v, &o), o);
        }
        if !run.ports.is_empty() {
            let key = format!("{name}.run.ports");
            let value = run
                .ports
                .iter()
                .map(|p| p.get_ref().text().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            add(key.clone(), value, origin(&key, &text, &path, "run.ports"));
        }
        for m in node.manifest.mounts.iter().map(|m| m.get_ref()) {
            let key = format!("{name}.mount.{}", m.target);
            let value = match m.source() {
                MountSource::Data(p) => {
                    format!("{} ({:?})", rel(&ws.data_root.join(name).join(p)), m.kind)
                }
                MountSource::Host(p) => format!("host {p} ({:?})", m.kind),
                MountSource::From(o, p) => format!("{o}'s {p} ({:?})", m.kind),
                MountSource::Volume(v) => format!(
                    "volume {} ({:?})",
                    crate::mounts::volume_name(ws, m).unwrap_or_else(|| v.to_string()),
                    m.kind
                ),
            };
            let o = ws
                .origins
                .get(&key)
                .cloned()
                .unwrap_or_else(|| path.to_string());
            add(key, value, o);
        }
    }
    out
}
