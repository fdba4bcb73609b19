//! `dk.local.toml`: what one site must not commit (git-ignored by convention), laid over
//! `dk.toml` and the manifests so that one workspace runs on several servers:
//!
//! ```toml
//! data_root = "/srv/dk"
//! state_dir = "/var/lib/dk"
//! [network.live]
//! subnet = "10.10.0.0/24"
//! [build]
//! args = { HTTP_PROXY = "http://proxy:3128" }
//! [containers.web]
//! env = { API_TOKEN = "…" }               # merged into [run] env
//! ports = ["0.0.0.0:80:8080"]             # replaces [run] ports
//! mounts = { "/srv/www" = "/srv/site" }   # the host path of the mount with that target
//! ```
//!
//! Every value keeps where it came from (`Origins`), which `dk config` prints.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::config::{NetworksFile, WorkspaceFile};
use crate::error::Diagnostic;
use crate::manifest::{Manifest, PortMapping};
use crate::tomlfile;
use crate::units::Text;

pub const LOCAL_FILE: &str = "dk.local.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalFile {
    pub data_root: Option<Spanned<String>>,
    pub state_dir: Option<Spanned<String>>,
    #[serde(default)]
    pub network: NetworksFile,
    #[serde(default)]
    pub build: LocalBuild,
    #[serde(default)]
    pub containers: BTreeMap<Spanned<String>, LocalContainer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalBuild {
    #[serde(default)]
    pub args: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalContainer {
    /// Merged into the manifest's `[run] env`.
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    /// Replaces the manifest's `[run] ports`.
    pub ports: Option<Spanned<Vec<Text<PortMapping>>>>,
    /// Mount target -> host path: the mount's source becomes that host path.
    #[serde(default)]
    pub mounts: BTreeMap<String, Spanned<String>>,
}

/// Where each value of the effective configuration comes from (`dk.toml:12`,
/// `dk.local.toml:3`, `containers/web/container.toml:8`, or `default`), by dotted key.
pub type Origins = BTreeMap<String, String>;

/// The site file, when there is one.
pub struct Local {
    pub file: LocalFile,
    pub text: String,
}

impl Local {
    pub fn load(root: &Path) -> Result<Option<Local>, Vec<Diagnostic>> {
        let path = root.join(LOCAL_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(vec![Diagnostic::new(
                    LOCAL_FILE,
                    format!("cannot read: {e}"),
                )]);
            }
        };
        let file = tomlfile::parse_all::<LocalFile>(&text, LOCAL_FILE)?;
        Ok(Some(Local { file, text }))
    }

    fn at(&self, offset: usize) -> String {
        format!(
            "{LOCAL_FILE}:{}",
            crate::error::line_col(&self.text, offset).0
        )
    }

    /// Lay the site's workspace values over dk.toml's.
    pub fn apply_to_workspace(&self, ws: &mut WorkspaceFile, origins: &mut Origins) {
        if let Some(d) = &self.file.data_root {
            ws.data_root = Some(d.get_ref().clone());
            origins.insert("data_root".into(), self.at(d.span().start));
        }
        if let Some(d) = &self.file.state_dir {
            ws.state_dir = Some(d.get_ref().clone());
            origins.insert("state_dir".into(), self.at(d.span().start));
        }
        for (role, local, base) in [
            ("live", &self.file.network.live, &mut ws.network.live),
            ("test", &self.file.network.test, &mut ws.network.test),
        ] {
            let Some(local) = local else { continue };
            let base = base.get_or_insert_with(|| crate::config::NetworkFile {
                name: None,
                subnet: None,
            });
            if let Some(n) = &local.name {
                base.name = Some(n.clone());
                origins.insert(format!("network.{role}.name"), LOCAL_FILE.to_string());
            }
            if let Some(s) = &local.subnet {
                origins.insert(format!("network.{role}.subnet"), self.at(s.span().start));
                base.subnet = Some(s.clone());
            }
        }
        for (k, v) in &self.file.build.args {
            ws.build.args.insert(k.clone(), v.get_ref().clone());
            origins.insert(format!("build.args.{k}"), self.at(v.span().start));
        }
    }

    /// Lay the site's values for container `name` over its manifest. Problems (a mount
    /// target the manifest does not have, a host path that exposes the host) are located
    /// in dk.local.toml.
    pub fn apply_to_node(
        &self,
        name: &str,
        manifest: &mut Manifest,
        origins: &mut Origins,
    ) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let Some(local) = self
            .file
            .containers
            .iter()
            .find(|(k, _)| k.get_ref() == name)
            .map(|(_, v)| v)
        else {
            return diags;
        };
        for (k, v) in &local.env {
            manifest.run.env.insert(k.clone(), v.get_ref().clone());
            origins.insert(format!("{name}.run.env.{k}"), self.at(v.span().start));
        }
        if let Some(p) = &local.ports {
            manifest.run.ports = p
                .get_ref()
                .iter()
                .map(|t| Spanned::new(0..0, t.clone()))
                .collect();
            origins.insert(format!("{name}.run.ports"), self.at(p.span().start));
        }
        for (target, host) in &local.mounts {
            let at = Diagnostic::new(LOCAL_FILE, "").at_offset(&self.text, host.span().start);
            let Some(m) = manifest
                .mounts
                .iter_mut()
                .map(|m| m.get_mut())
                .find(|m| &m.target == target)
            else {
                let targets: Vec<&str> = manifest
                    .mounts
                    .iter()
                    .map(|m| m.get_ref().target.as_str())
                    .collect();
                let mut d = Diagnostic {
                    message: format!("containers.{name}.mounts: {name} has no mount at `{target}`"),
                    ..at
                };
                if let Some(near) = tomlfile::suggest(target, targets.iter().copied()) {
                    d = d.help(format!("did you mean `{near}`?"));
                }
                diags.push(d);
                continue;
            };
            let path = host.get_ref();
            if !path.starts_with('/') {
                diags.push(Diagnostic {
                    message: format!("containers.{name}.mounts.\"{target}\": `{path}` must be an absolute host path"),
                    ..at
                });
                continue;
            }
            if crate::manifest::exposes_host(path) && m.allow.is_none() {
                diags.push(
                    Diagnostic {
                        message: format!("containers.{name}.mounts.\"{target}\": `{path}` exposes the host to the container"),
                        ..at
                    }
                    .help("give the mount an `allow = \"<reason>\"` in its container.toml"),
                );
                continue;
            }
            m.host = Some(path.clone());
            m.source = None;
            m.from = None;
            m.volume = None;
            origins.insert(format!("{name}.mount.{target}"), self.at(host.span().start));
        }
        diags
    }

    /// Containers the site file names that the workspace does not have.
    pub fn unknown_containers(&self, names: &[&str]) -> Vec<Diagnostic> {
        self.file
            .containers
            .keys()
            .filter(|k| !names.contains(&k.get_ref().as_str()))
            .map(|k| {
                let mut d = Diagnostic::new(
                    LOCAL_FILE,
                    format!(
                        "[containers.{}]: no such container in this workspace",
                        k.get_ref()
                    ),
                )
                .at_offset(&self.text, k.span().start);
                if let Some(near) = tomlfile::suggest(k.get_ref(), names.iter().copied()) {
                    d = d.help(format!("did you mean `{near}`?"));
                }
                d
            })
            .collect()
    }
}

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

pub fn config_entries(ws: &crate::workspace::Workspace) -> Vec<ConfigEntry> {
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
    for node in &ws.nodes {
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
