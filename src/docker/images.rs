//! Images: list, inspect, tag, pull.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use bollard::models::ImageInspect;
use bollard::query_parameters::{CreateImageOptions, ListImagesOptions, TagImageOptions};
use futures_util::{StreamExt, TryStreamExt};

use super::{Daemon, Lookup, is_not_found};
use crate::error::{Error, Result};
use crate::ids::ImageId;

/// Concurrent image lookups.
const LOOKUPS_IN_FLIGHT: usize = 8;
/// Above this many tags, one filtered listing instead of a lookup each.
const LOOKUPS_BEFORE_LISTING: usize = 64;

/// A snapshot of the daemon's images: where tags point and which ids exist. Complete when
/// it comes from a listing; otherwise it holds only the tags that were looked up, and
/// `exists` answers only for the ids those tags point at.
#[derive(Debug, Default, Clone)]
pub struct ImageSet {
    ids: HashSet<ImageId>,
    /// `repo:tag` -> image id.
    tags: HashMap<String, ImageId>,
    /// From a full listing: an id that is not in `ids` does not exist.
    complete: bool,
}

impl ImageSet {
    /// `Some(true)`/`Some(false)` when the snapshot knows, `None` when it must be asked.
    pub fn exists(&self, id: &ImageId) -> Option<bool> {
        if self.ids.contains(id) {
            Some(true)
        } else if self.complete {
            Some(false)
        } else {
            None
        }
    }

    /// The snapshot made of looking up `refs` one by one.
    fn from_lookups(found: Vec<(String, Option<ImageId>)>) -> ImageSet {
        let mut set = ImageSet::default();
        for (reference, id) in found {
            if let Some(id) = id {
                set.ids.insert(id.clone());
                set.tags.insert(reference, id);
            }
        }
        set
    }

    pub fn tag(&self, reference: &str) -> Option<&ImageId> {
        self.tags.get(reference)
    }
}

/// What dk needs to know about an image: to launch it, audit it, or pin it.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    pub id: ImageId,
    pub user: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// The image's HEALTHCHECK command (exec form, or `["CMD-SHELL", ...]`), timeout and
    /// retries; `None` when it has none (or `HEALTHCHECK NONE`).
    pub healthcheck: Option<(Vec<String>, Duration, i64)>,
    /// Registry digests (`repo@sha256:…`) the image is known by.
    pub repo_digests: Vec<String>,
    /// Size in bytes.
    pub size: u64,
    /// `os/arch[/variant]` the image is for.
    pub platform: String,
    pub labels: BTreeMap<String, String>,
}

impl ImageFacts {
    fn from_inspect(i: ImageInspect) -> ImageFacts {
        let cfg = i.config.unwrap_or_default();
        let hc = cfg.healthcheck.filter(|h| {
            h.test
                .as_ref()
                .is_some_and(|t| !t.is_empty() && t[0] != "NONE")
        });
        ImageFacts {
            id: ImageId::new(i.id.unwrap_or_default()),
            user: cfg.user.unwrap_or_default(),
            entrypoint: cfg.entrypoint.unwrap_or_default(),
            cmd: cfg.cmd.unwrap_or_default(),
            healthcheck: hc.map(|h| {
                (
                    h.test.unwrap_or_default(),
                    Duration::from_nanos(h.timeout.unwrap_or(0).max(0) as u64),
                    h.retries.unwrap_or(3),
                )
            }),
            repo_digests: i.repo_digests.unwrap_or_default(),
            size: i.size.unwrap_or(0).max(0) as u64,
            platform: {
                let mut p = format!(
                    "{}/{}",
                    i.os.clone().unwrap_or_default(),
                    i.architecture.clone().unwrap_or_default()
                );
                if let Some(v) = i.variant.clone().filter(|v| !v.is_empty()) {
                    p.push('/');
                    p.push_str(&v);
                }
                p
            },
            labels: cfg.labels.unwrap_or_default().into_iter().collect(),
        }
    }
}

impl Lookup {
    /// One call that lists every image.
    pub async fn images(&self) -> Result<ImageSet> {
        let list = self
            .api
            .list_images(Some(ListImagesOptions {
                all: false,
                ..Default::default()
            }))
            .await
            .map_err(|e| self.err("listing images", e))?;
        let mut set = ImageSet {
            complete: true,
            ..Default::default()
        };
        for img in list {
            let id = ImageId::new(img.id);
            for t in &img.repo_tags {
                if t != "<none>:<none>" {
                    set.tags.insert(t.clone(), id.clone());
                }
            }
            set.ids.insert(id);
        }
        Ok(set)
    }

    /// Look up several tags: a few at a time one by one (unlike a full listing, the cost
    /// does not grow with the number of images the daemon holds), or, for many, one
    /// listing filtered to their repositories (`ns/*:latest`): at 1000 nodes a thousand
    /// requests cost more than the daemon's filtering.
    pub async fn lookup_tags(&self, refs: &[String]) -> Result<ImageSet> {
        if refs.len() > LOOKUPS_BEFORE_LISTING {
            let patterns: BTreeSet<String> = refs.iter().map(|r| listing_pattern(r)).collect();
            let list = self
                .images_filtered("reference", patterns.into_iter().collect())
                .await?;
            let mut tags: HashMap<&str, ImageId> = HashMap::new();
            for img in &list {
                for t in &img.repo_tags {
                    tags.insert(t.as_str(), ImageId::new(img.id.clone()));
                }
            }
            return Ok(ImageSet::from_lookups(
                refs.iter()
                    .map(|r| (r.clone(), tags.get(r.as_str()).cloned()))
                    .collect(),
            ));
        }
        let found: Vec<(String, Option<ImageId>)> = futures_util::stream::iter(refs)
            .map(|r| async move { Ok::<_, Error>((r.clone(), self.image_id(r).await?)) })
            .buffer_unordered(LOOKUPS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(ImageSet::from_lookups(found))
    }

    pub async fn inspect_image(&self, reference: &str) -> Result<Option<ImageFacts>> {
        match self.api.inspect_image(reference).await {
            Ok(i) => Ok(Some(ImageFacts::from_inspect(i))),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(format!("inspecting image {reference}"), e)),
        }
    }

    pub async fn image_id(&self, reference: &str) -> Result<Option<ImageId>> {
        match self.api.inspect_image(reference).await {
            Ok(i) => Ok(i.id.map(ImageId::new)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(format!("inspecting image {reference}"), e)),
        }
    }
}

/// The `reference` filter pattern that lists `reference`'s repository siblings with its
/// tag: `ns/web:latest` → `ns/*:latest` (Docker matches it as a path: `*` stops at `/`).
fn listing_pattern(reference: &str) -> String {
    let (name, tag) = match reference.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (reference, "latest"),
    };
    match name.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/*:{tag}"),
        None => format!("*:{tag}"),
    }
}

/// One image of a listing.
#[derive(Debug, Clone)]
pub struct ImageEntry {
    pub id: ImageId,
    /// `repo:tag` names (none for a dangling image).
    pub tags: Vec<String>,
    /// Bytes, counting layers it shares with other images.
    pub size: u64,
    /// Unix time.
    pub created: i64,
}

/// What removing one image reference did.
#[derive(Debug, Clone, Default)]
pub struct Removal {
    /// Image ids deleted (the image and parents nothing else needs).
    pub deleted: Vec<ImageId>,
    /// Why the daemon refused (in use, has dependent child images), when it did.
    pub refused: Option<String>,
}

impl Lookup {
    /// The daemon's listing of the images matching one filter (`label`, `reference`) with
    /// any of `values`.
    async fn images_filtered(
        &self,
        filter: &str,
        values: Vec<String>,
    ) -> Result<Vec<bollard::models::ImageSummary>> {
        let mut filters = HashMap::new();
        filters.insert(filter.to_string(), values);
        self.api
            .list_images(Some(ListImagesOptions {
                all: false,
                filters: Some(filters),
                ..Default::default()
            }))
            .await
            .map_err(|e| self.err("listing images", e))
    }

    /// Every image (dangling ones too) carrying `label=value`.
    pub async fn images_labelled(&self, label: &str, value: &str) -> Result<Vec<ImageEntry>> {
        let list = self
            .images_filtered("label", vec![format!("{label}={value}")])
            .await?;
        Ok(list
            .into_iter()
            .map(|img| ImageEntry {
                id: ImageId::new(img.id),
                tags: img
                    .repo_tags
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .collect(),
                size: img.size.max(0) as u64,
                created: img.created,
            })
            .collect())
    }

    /// The image ids any container on the daemon (running or not, anyone's) was made from.
    pub async fn images_in_use(&self) -> Result<HashSet<ImageId>> {
        let list = self
            .api
            .list_containers(Some(bollard::query_parameters::ListContainersOptions {
                all: true,
                ..Default::default()
            }))
            .await
            .map_err(|e| self.err("listing containers", e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| c.image_id.map(ImageId::new))
            .collect())
    }
}

impl Daemon {
    /// Remove an image reference (a tag, or an id) without force: the daemon refuses an
    /// image a container uses or another image builds on, and says so in `refused`.
    pub async fn remove_image(&self, reference: &str) -> Result<Removal> {
        match self
            .api
            .remove_image(
                reference,
                Some(bollard::query_parameters::RemoveImageOptions {
                    force: false,
                    noprune: false,
                    ..Default::default()
                }),
                None,
            )
            .await
        {
            Ok(items) => Ok(Removal {
                deleted: items
                    .into_iter()
                    .filter_map(|i| i.deleted.map(ImageId::new))
                    .collect(),
                refused: None,
            }),
            Err(e) if is_not_found(&e) => Ok(Removal::default()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) => Ok(Removal {
                deleted: Vec::new(),
                refused: Some(message),
            }),
            Err(e) => Err(self.err(format!("removing image {reference}"), e)),
        }
    }

    /// Point `repo:tag` at `image` (an id or reference).
    pub async fn tag(&self, image: &str, repo: &str, tag: &str) -> Result<()> {
        self.api
            .tag_image(
                image,
                Some(TagImageOptions {
                    repo: Some(repo.to_string()),
                    tag: Some(tag.to_string()),
                }),
            )
            .await
            .map_err(|e| self.err(format!("tagging {image} as {repo}:{tag}"), e))
    }

    /// Remove the tag `reference` (and the image, when that was its last name and nothing
    /// uses it). A tag that is gone is not an error; an image still in use keeps existing.
    pub async fn untag(&self, reference: &str) -> Result<()> {
        self.remove_image(reference).await.map(|_| ())
    }

    /// Try to pull `reference`; the error says what the daemon said.
    pub async fn pull(&self, reference: &str) -> Result<()> {
        let mut stream = self.long.create_image(
            Some(CreateImageOptions {
                from_image: Some(reference.to_string()),
                ..Default::default()
            }),
            None,
            None,
        );
        while let Some(item) = stream.next().await {
            item.map_err(|e| self.err(format!("pulling {reference}"), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::listing_pattern;

    #[test]
    fn a_listing_pattern_names_the_repository_s_siblings_with_the_tag() {
        assert_eq!(listing_pattern("ns/web:latest"), "ns/*:latest");
        assert_eq!(
            listing_pattern("reg:5000/team/web:live"),
            "reg:5000/team/*:live"
        );
        assert_eq!(listing_pattern("reg:5000/web"), "reg:5000/*:latest");
        assert_eq!(listing_pattern("web"), "*:latest");
    }
}
