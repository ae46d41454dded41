//! Images in an object store (S3 or any `object_store` backend): a catalogue of the store's
//! objects, refreshed in the background, that the routing core looks names up in after
//! `images/`.
//!
//! Why a catalogue rather than a `HEAD` per request: routing stays a lookup in memory (an ONIE
//! waterfall asks for a dozen names that mostly do not exist, and each would be a round trip
//! to the store), and the answer's head — length, ETag, Last-Modified — is known before any
//! byte of the object is fetched. The catalogue can be stale for one refresh period; the body
//! is fetched with `If-Match` on the catalogued ETag before the head goes out, so an object
//! replaced or removed since is answered 404 (and the catalogue refreshed), never with a head
//! that promises the old length over the new bytes.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore};
use parking_lot::RwLock;
use tracing::{debug, warn};

use super::files::{self, Entity, Source};

/// How often the catalogue is listed again by default.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(10);
/// A body is fetched in ranged GETs of at most this many bytes, one ahead of the client: each
/// request to the store ends quickly however slowly the client reads (the store's client has a
/// whole-request timeout), and a connection holds at most two pieces.
pub const PIECE: u64 = 4 << 20;

/// One object of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectImage {
    pub location: Path,
    pub len: u64,
    /// The store's own ETag, as the store writes it (for `If-Match`); `None` when it keeps none.
    pub store_etag: Option<String>,
    pub modified: SystemTime,
}

impl ObjectImage {
    /// The object as an answerable entity: its HTTP ETag is the store's (quoted), or made
    /// from its length and time when the store keeps none.
    pub fn entity(&self) -> Entity {
        let etag = match &self.store_etag {
            Some(tag) => quoted(tag),
            None => {
                let nanos = self
                    .modified
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                format!("\"{:x}-{:x}\"", self.len, nanos)
            }
        };
        Entity {
            len: self.len,
            etag,
            modified: files::whole_seconds(self.modified),
            source: Source::Object {
                location: self.location.clone(),
                store_etag: self.store_etag.clone(),
            },
        }
    }
}

/// The image objects of one store, by name (the object's key below the store's root).
pub struct ImageObjects {
    store: Arc<dyn ObjectStore>,
    /// For logs and errors: where the store is (`s3://bucket/prefix`).
    label: String,
    refresh: Duration,
    catalogue: RwLock<HashMap<String, ObjectImage>>,
}

impl std::fmt::Debug for ImageObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageObjects")
            .field("store", &self.label)
            .field("objects", &self.catalogue.read().len())
            .finish()
    }
}

impl ImageObjects {
    /// Lists `store` once (an unreachable store is an error now, not a 404 later).
    pub async fn open(
        store: Arc<dyn ObjectStore>,
        label: impl Into<String>,
        refresh: Duration,
    ) -> crate::Result<ImageObjects> {
        let objects = ImageObjects {
            store,
            label: label.into(),
            refresh,
            catalogue: RwLock::new(HashMap::new()),
        };
        objects.refresh().await?;
        Ok(objects)
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The object called `name`, as of the last listing. Names that could not be asked for
    /// over HTTP (`..`, empty segments) are never found.
    pub fn get(&self, name: &str) -> Option<ObjectImage> {
        if !files::name_allowed(name) {
            return None;
        }
        self.catalogue.read().get(name).cloned()
    }

    /// Names in the catalogue, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.catalogue.read().keys().cloned().collect();
        names.sort();
        names
    }

    /// The bytes `range` of the object at `location`, only while it still has `store_etag`
    /// (`Precondition` when it was replaced, `NotFound` when it is gone).
    pub async fn fetch(
        &self,
        location: &Path,
        store_etag: Option<&str>,
        range: Range<u64>,
    ) -> object_store::Result<Bytes> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            if_match: store_etag.map(str::to_string),
            ..GetOptions::default()
        };
        self.store.get_opts(location, options).await?.bytes().await
    }

    /// Lists the store and replaces the catalogue: the number of objects.
    pub async fn refresh(&self) -> crate::Result<usize> {
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .list(None)
            .try_collect()
            .await
            .map_err(|e| crate::ZtpError::Store(format!("listing {}: {e}", self.label)))?;
        let catalogue: HashMap<String, ObjectImage> = listed
            .into_iter()
            .map(|meta| (meta.location.to_string(), image_of(meta)))
            .collect();
        let count = catalogue.len();
        *self.catalogue.write() = catalogue;
        debug!(store = %self.label, objects = count, "ZTP image catalogue listed");
        Ok(count)
    }

    /// Lists the store every refresh period until `stopped` turns true. A failed listing keeps
    /// the last catalogue: the store being away for a while should not make images vanish.
    pub async fn keep_fresh(&self, mut stopped: tokio::sync::watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(self.refresh);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopped.changed() => return,
            }
            if let Err(error) = self.refresh().await {
                warn!(%error, "ZTP image catalogue not refreshed; the last listing stays");
            }
        }
    }
}

fn image_of(meta: object_store::ObjectMeta) -> ObjectImage {
    ObjectImage {
        store_etag: meta.e_tag,
        len: meta.size,
        modified: SystemTime::from(meta.last_modified),
        location: meta.location,
    }
}

/// The ranges a body of `len` bytes from `offset` is fetched in.
pub fn pieces(offset: u64, len: u64) -> impl Iterator<Item = Range<u64>> {
    let end = offset.saturating_add(len);
    (offset..end)
        .step_by(usize::try_from(PIECE).unwrap_or(usize::MAX))
        .map(move |start| start..end.min(start + PIECE))
}

/// An ETag as HTTP writes it: S3 quotes its own, other stores do not.
fn quoted(tag: &str) -> String {
    let bare = tag.trim_start_matches("W/").trim_matches('"');
    format!("\"{bare}\"")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_fetched_in_pieces() {
        assert_eq!(pieces(0, 0).count(), 0);
        assert_eq!(pieces(5, 10).collect::<Vec<_>>(), vec![5..15]);
        let ranges: Vec<_> = pieces(1, 2 * PIECE).collect();
        assert_eq!(ranges, vec![1..PIECE + 1, PIECE + 1..2 * PIECE + 1]);
    }

    #[test]
    fn etags_are_quoted_once() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted("\"abc\""), "\"abc\"");
        assert_eq!(quoted("W/\"abc\""), "\"abc\"");
    }
}
