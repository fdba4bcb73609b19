//! `dk prune`: remove this workspace's images that nothing needs any more, then the
//! daemon's dangling build cache. Kept: every image a tag of the workspace's nodes keeps
//! (`:latest`, `:live`, `:prev`, `:release-…`), and every image any container (anyone's)
//! was made from. Only images labelled with this workspace's id are considered, so another
//! workspace's images are never touched; data and volumes never are.
//!
//! `dk clean`: a node's staged files, records and logs, and (with `--build-cache`) the
//! daemon's whole build cache.

use std::collections::HashSet;

use serde::Serialize;

use crate::docker::ImageEntry;
use crate::engine::Engine;
use crate::error::Result;
use crate::ids::ImageId;
use crate::lock::WorkspaceLock;

/// The tags that keep an image (`live-arm64` too: another platform's).
fn keeps(tag: &str) -> bool {
    let kind = tag.split('-').next().unwrap_or(tag);
    matches!(kind, "latest" | "live" | "prev") || tag.starts_with("release-")
}

/// One image `dk prune` removes (or would).
#[derive(Debug, Clone, Serialize)]
pub struct Pruned {
    pub id: String,
    /// Its names in the workspace's repositories (none: dangling).
    pub tags: Vec<String>,
    /// Bytes it occupies, counting layers shared with images that stay.
    pub size: u64,
    /// Why it stays after all (the daemon refused: another image builds on it).
    pub refused: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
    pub images: Vec<Pruned>,
    /// How many images were kept (tagged to be kept, or used by a container).
    pub kept: usize,
    /// Bytes of dangling build cache removed (None in a dry run).
    pub build_cache: Option<u64>,
    pub dry_run: bool,
}

impl PruneReport {
    /// Bytes of the images removed, as the daemon counts each image.
    pub fn image_bytes(&self) -> u64 {
        self.images
            .iter()
            .filter(|p| p.refused.is_none())
            .map(|p| p.size)
            .sum()
    }
}

impl Engine {
    /// The workspace's images nothing needs, and how many stay.
    async fn prunable(&self) -> Result<(Vec<ImageEntry>, usize)> {
        let reads = self.reads()?;
        let images = reads
            .images_labelled(crate::labels::WORKSPACE, &self.ws.id)
            .await?;
        let in_use: HashSet<ImageId> = reads.images_in_use().await?;
        let repos: HashSet<String> = self
            .ws
            .nodes
            .iter()
            .map(|n| format!("{}/{}", self.ws.namespace, n.name))
            .collect();
        let (kept, gone): (Vec<ImageEntry>, Vec<ImageEntry>) =
            images.into_iter().partition(|img| {
                in_use.contains(&img.id)
                    || img.tags.iter().any(|t| {
                        t.rsplit_once(':')
                            .is_some_and(|(repo, tag)| !repos.contains(repo) || keeps(tag))
                    })
            });
        Ok((gone, kept.len()))
    }

    /// Remove (or with `dry_run`, list) what `prunable` finds, newest first (a child goes
    /// before the image it was built on), then the dangling build cache.
    pub async fn prune(&self, _lock: &WorkspaceLock, dry_run: bool) -> Result<PruneReport> {
        let (mut gone, kept) = self.prunable().await?;
        gone.sort_by_key(|img| std::cmp::Reverse(img.created));
        let mut report = PruneReport {
            kept,
            dry_run,
            ..Default::default()
        };
        for img in gone {
            let mut pruned = Pruned {
                id: img.id.short().to_string(),
                tags: img.tags.clone(),
                size: img.size,
                refused: None,
            };
            if !dry_run {
                let daemon = self.daemon().await?;
                // Each name goes; the last one takes the image with it.
                let refs: Vec<String> = if img.tags.is_empty() {
                    vec![img.id.to_string()]
                } else {
                    img.tags.clone()
                };
                for r in refs {
                    if let Some(why) = daemon.remove_image(&r).await?.refused {
                        pruned.refused = Some(why);
                    }
                }
            }
            report.images.push(pruned);
        }
        if !dry_run {
            report.build_cache = Some(self.daemon().await?.prune_dangling_build_cache().await?);
        }
        Ok(report)
    }
}

/// What `dk clean` removed for one node.
#[derive(Debug, Clone, Serialize)]
pub struct CleanedNode {
    pub name: String,
    pub staged_removed: Vec<String>,
    pub records_removed: usize,
    pub logs_removed: usize,
}

/// What `dk clean` did.
#[derive(Debug, Clone)]
pub struct CleanReport {
    pub nodes: Vec<CleanedNode>,
    pub build_cache_freed: Option<u64>,
}

impl Engine {
    /// `dk clean`: the selected nodes' staged files, records and logs; with `build_cache`,
    /// the daemon's build cache too.
    pub async fn clean(
        &self,
        _lock: &WorkspaceLock,
        selected: &[usize],
        build_cache: bool,
    ) -> Result<CleanReport> {
        let mut nodes = Vec::new();
        for &i in selected {
            let node = &self.ws.nodes[i];
            nodes.push(CleanedNode {
                name: node.name.clone(),
                staged_removed: crate::stage::clean(&self.ws, node)?,
                records_removed: self.records.clean(&node.name)?,
                logs_removed: self.ws.state.clean_node(&node.name)?,
            });
        }
        let build_cache_freed = if build_cache {
            Some(self.daemon().await?.prune_build_cache().await?)
        } else {
            None
        };
        Ok(CleanReport {
            nodes,
            build_cache_freed,
        })
    }
}
