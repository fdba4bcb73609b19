//! Images: list, inspect, tag, remove, pull, import.

use std::collections::{HashMap, HashSet};

use bollard::models::ImageInspect;
use bollard::query_parameters::{
    CreateImageOptions, ListImagesOptions, RemoveImageOptions, TagImageOptions,
};
use futures_util::{StreamExt, TryStreamExt};

/// Concurrent image lookups.
const LOOKUPS_IN_FLIGHT: usize = 8;

use super::{Daemon, is_not_found};
use crate::error::{Error, Result};

/// A snapshot of the daemon's images: where tags point and which ids exist. Complete when
/// it comes from a listing; otherwise it holds only the tags that were looked up, and
/// `exists` answers only for the ids those tags point at.
#[derive(Debug, Default, Clone)]
pub struct ImageSet {
    pub ids: HashSet<String>,
    /// `repo:tag` -> image id.
    pub tags: HashMap<String, String>,
    /// From a full listing: an id that is not in `ids` does not exist.
    pub complete: bool,
}

impl ImageSet {
    /// `Some(true)`/`Some(false)` when the snapshot knows, `None` when it must be asked.
    pub fn exists(&self, id: &str) -> Option<bool> {
        if self.ids.contains(id) {
            Some(true)
        } else if self.complete {
            Some(false)
        } else {
            None
        }
    }

    /// The snapshot made of looking up `refs` one by one.
    fn from_lookups(found: Vec<(String, Option<String>)>) -> ImageSet {
        let mut set = ImageSet::default();
        for (reference, id) in found {
            if let Some(id) = id {
                set.ids.insert(id.clone());
                set.tags.insert(reference, id);
            }
        }
        set
    }

    pub fn tag(&self, reference: &str) -> Option<&str> {
        self.tags.get(reference).map(String::as_str)
    }
}

impl Daemon {
    /// One call that lists every image (cheap, and enough for the no-op path).
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
            for t in &img.repo_tags {
                if t != "<none>:<none>" {
                    set.tags.insert(t.clone(), img.id.clone());
                }
            }
            set.ids.insert(img.id);
        }
        Ok(set)
    }

    /// Look up several tags at once (concurrent requests): cheaper than a full listing when
    /// there are few.
    pub async fn lookup_tags(&self, refs: &[String]) -> Result<ImageSet> {
        // A few at a time: the connections are reused, and the daemon is not flooded.
        let found: Vec<(String, Option<String>)> = futures_util::stream::iter(refs)
            .map(|r| async move { Ok::<_, Error>((r.clone(), self.image_id(r).await?)) })
            .buffer_unordered(LOOKUPS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(ImageSet::from_lookups(found))
    }

    pub async fn inspect_image(&self, reference: &str) -> Result<Option<ImageInspect>> {
        match self.api.inspect_image(reference).await {
            Ok(i) => Ok(Some(i)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(format!("inspecting image {reference}"), e)),
        }
    }

    pub async fn image_id(&self, reference: &str) -> Result<Option<String>> {
        Ok(self.inspect_image(reference).await?.and_then(|i| i.id))
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

    /// Remove an image or tag; a missing one is not an error.
    pub async fn remove_image(&self, reference: &str, force: bool) -> Result<()> {
        match self
            .api
            .remove_image(
                reference,
                Some(RemoveImageOptions {
                    force,
                    noprune: false,
                    ..Default::default()
                }),
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(self.err(format!("removing image {reference}"), e)),
        }
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

    /// Import a root filesystem tar as `repo:tag` (`docker import`), returning the image id.
    pub async fn import_rootfs(&self, tar: Vec<u8>, repo: &str, tag: &str) -> Result<String> {
        let mut stream = self.long.create_image(
            Some(CreateImageOptions {
                from_src: Some("-".to_string()),
                repo: Some(repo.to_string()),
                tag: Some(tag.to_string()),
                ..Default::default()
            }),
            Some(bollard::body_full(tar.into())),
            None,
        );
        while let Some(item) = stream.next().await {
            item.map_err(|e| self.err(format!("importing {repo}:{tag}"), e))?;
        }
        self.image_id(&format!("{repo}:{tag}"))
            .await?
            .ok_or_else(|| Error::Failed(format!("import of {repo}:{tag} left no image")))
    }
}
