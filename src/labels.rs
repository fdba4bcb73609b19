//! The `dk.*` labels, made in one place. Every Docker object dk creates carries
//! `dk.workspace` (the workspace id) and `dk.role`, so leftovers can always be found; images
//! and containers also name their node.

use std::collections::BTreeMap;

use crate::ids::ImageId;

pub const WORKSPACE: &str = "dk.workspace";
pub const ROLE: &str = "dk.role";
pub const NODE: &str = "dk.node";
/// The image id a container was created from (containers).
pub const IMAGE: &str = "dk.image";
/// Hash of a live container's settings: a differing hash means "replace".
pub const SETTINGS_HASH: &str = "dk.settings-hash";
/// The input hash an image was built from (images).
pub const INPUT_HASH: &str = "dk.input-hash";
/// The node's workspace-relative directory (images).
pub const PATH: &str = "dk.path";

/// What an object is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Images dk built.
    Build,
    /// Test launches, audit containers, the test network.
    Test,
    /// Live containers and the live network.
    Live,
    /// One-off containers: `dk run` jobs and `dk shell --image` shells, removed on exit.
    Job,
}

impl Role {
    pub fn label(&self) -> &'static str {
        match self {
            Role::Build => "build",
            Role::Test => "test",
            Role::Live => "live",
            Role::Job => "job",
        }
    }
}

/// The labels of an object dk creates. Made only here (`owned`, `container`, `image`), so
/// every set carries `dk.workspace` and `dk.role`; the Docker layer takes only this type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    /// Add a label (a node's own labels, the settings hash). `dk.workspace` and `dk.role`
    /// stay what they were made with.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        if key != WORKSPACE && key != ROLE {
            self.0.insert(key, value.into());
        }
    }

    /// Add a label unless one of that key is there (a node's labels never replace dk's).
    pub fn insert_missing(&mut self, key: &str, value: &str) {
        if !self.0.contains_key(key) {
            self.0.insert(key.to_string(), value.to_string());
        }
    }

    /// Drop a label dk added (never `dk.workspace` or `dk.role`).
    pub fn remove(&mut self, key: &str) {
        if key != WORKSPACE && key != ROLE {
            self.0.remove(key);
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// The map, for the Docker layer to hand to the daemon.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.0.clone()
    }
}

/// `dk.workspace` and `dk.role` (networks).
pub fn owned(workspace: &str, role: Role) -> Labels {
    let mut l = BTreeMap::new();
    l.insert(WORKSPACE.into(), workspace.into());
    l.insert(ROLE.into(), role.label().into());
    Labels(l)
}

/// Labels of a container of `node` made from `image`.
pub fn container(workspace: &str, role: Role, node: &str, image: &ImageId) -> Labels {
    let mut l = owned(workspace, role);
    l.insert(NODE, node);
    l.insert(IMAGE, image.to_string());
    l
}

/// The labels a built image carries besides its input hash: they are hashed with the
/// inputs (`build::prepare`), so a change to any of them rebuilds.
pub fn image(workspace: &str, node: &str, rel_dir: &str, description: Option<&str>) -> Labels {
    let mut l = owned(workspace, Role::Build);
    l.insert(NODE, node);
    l.insert(PATH, rel_dir);
    l.insert("org.opencontainers.image.title", node);
    if let Some(d) = description {
        l.insert("org.opencontainers.image.description", d);
    }
    l
}

/// A label filter for listing a workspace's objects of one role.
pub fn filter(workspace: &str, role: Role) -> Vec<(String, String)> {
    vec![
        (WORKSPACE.into(), workspace.into()),
        (ROLE.into(), role.label().into()),
    ]
}
