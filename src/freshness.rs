//! The one freshness decision, used by `dk build` (to skip) and `dk plan` (to say why):
//! a node is fresh when a build record exists for its input hash and the recorded image is
//! still tagged `:latest`. Docker is the source of truth: a record whose image is gone is
//! ignored.

use crate::docker::ImageSet;
use crate::engine::Engine;
use crate::error::Result;
use crate::ids::ImageId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Inputs recorded and the image still tagged `:latest`: nothing to send.
    Fresh(ImageId),
    /// Inputs recorded and the image exists, but `:latest` points elsewhere: re-tag only.
    Retag(ImageId),
    /// Inputs recorded; whether the image exists is unknown (no daemon answered).
    Unverified(ImageId),
    /// Must be built.
    Stale(Stale),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// `--force` asked for it.
    Forced,
    /// No build was recorded for these inputs.
    NoRecord,
    /// The image recorded for these inputs is gone from the daemon.
    ImageGone(ImageId),
}

impl Engine {
    /// Decide for node `i` whose inputs hash to `input_hash`. `images` is a snapshot of the
    /// daemon's images (None: no daemon); what it does not know is asked of the daemon
    /// (a read, never a negotiation).
    pub async fn freshness(
        &self,
        i: usize,
        input_hash: &str,
        images: Option<&ImageSet>,
        force: bool,
    ) -> Result<Freshness> {
        if force {
            return Ok(Freshness::Stale(Stale::Forced));
        }
        let name = self.name(i);
        let Some(rec) = self.records.build(name, input_hash) else {
            return Ok(Freshness::Stale(Stale::NoRecord));
        };
        let Some(images) = images else {
            return Ok(Freshness::Unverified(rec.image_id));
        };
        if images.tag(&self.ws.image(name, "latest")) == Some(&rec.image_id) {
            return Ok(Freshness::Fresh(rec.image_id));
        }
        let exists = match images.exists(&rec.image_id) {
            Some(known) => known,
            None => self
                .reads()?
                .image_id(rec.image_id.as_str())
                .await?
                .is_some(),
        };
        Ok(if exists {
            Freshness::Retag(rec.image_id)
        } else {
            Freshness::Stale(Stale::ImageGone(rec.image_id))
        })
    }
}
