//! The archive: closed partitions and their checkpoints copied to another store (object storage
//! for post-mortems), laid out as the store lays them out, so the archive opens as a store of its
//! own (`--store s3://…`).
//!
//! A push mirrors each closed hour it covers: files the archive lacks or holds with another size
//! or checksum are copied, and files of those hours the store no longer has (merged by compaction,
//! invalidated checkpoints) are removed once the copies are in. Every object carries the SHA-256
//! of its bytes (`x-amz-meta-sonde-sha256`), so a second push copies nothing, an interrupted one
//! resumes where it stopped, and [`verify`] can check every byte.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, GetOptions, ObjectStore, PutMultipartOptions, PutOptions, PutPayload,
    WriteMultipart,
};
use sha2::{Digest, Sha256};

use crate::engine::{Engine, FileKind, StoredFile};
use crate::error::{EngineError, Result};
use crate::paths::{CHECKPOINT_ROOT, CheckpointPath, EventFilePath, Hour};
use crate::store::{Store, StoreLocation};

/// The user metadata key holding an object's SHA-256.
const CHECKSUM_KEY: &str = "sonde-sha256";
/// Files up to this size are sent in one PUT; larger ones in parts of this size.
const PART_BYTES: usize = 16 << 20;

/// What a push copies.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Only hours that end at or before this instant (µs) are closed and copied.
    pub closed_before: i64,
    /// Only hours that end after this instant (µs); the newest checkpoint at or before it is
    /// copied too, so the archive answers a state at any time after it.
    pub since: Option<i64>,
    /// Only these tables; all when empty.
    pub tables: Vec<String>,
    /// Files copied at once.
    pub jobs: usize,
}

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushStats {
    pub copied: usize,
    pub copied_bytes: u64,
    /// Already in the archive with the same size and checksum.
    pub unchanged: usize,
    /// Removed from the archive: the store replaced them (compaction) or dropped them.
    pub removed: usize,
    /// Gone from the store while the push ran (a compaction merged them): the next push takes
    /// their replacement.
    pub vanished: usize,
    /// Files of hours not closed yet, left for a later push.
    pub open: usize,
}

/// One step of a push or a verification, for a progress display.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// The files the run will look at, and their bytes.
    Planned {
        files: usize,
        bytes: u64,
    },
    Copied {
        path: &'a Path,
        bytes: u64,
    },
    Unchanged {
        path: &'a Path,
        bytes: u64,
    },
    Removed {
        path: &'a Path,
    },
    Checked {
        path: &'a Path,
        bytes: u64,
    },
}

/// The target of a push: another store, written through object_store.
#[derive(Debug, Clone)]
pub struct Archive {
    store: Store,
}

impl Archive {
    pub fn new(store: Store) -> Self {
        Archive { store }
    }

    fn objects(&self) -> Arc<dyn ObjectStore> {
        self.store.object_store()
    }

    /// Object stores keep the checksum as user metadata; a local directory cannot, and its
    /// files are hashed where they lie.
    fn keeps_metadata(&self) -> bool {
        matches!(self.store.location(), StoreLocation::S3 { .. })
    }

    /// Sizes of every archived object under `prefix`.
    async fn sizes(&self, prefix: &str) -> Result<HashMap<Path, u64>> {
        Ok(self
            .store
            .list(prefix)
            .await?
            .into_iter()
            .map(|meta| (meta.location, meta.size))
            .collect())
    }

    /// The size of the object at `path`, if there is one.
    async fn size_of(&self, path: &Path) -> Result<Option<u64>> {
        let head = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        match self.objects().get_opts(path, head).await {
            Ok(result) => Ok(Some(result.meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The checksum an object carries (or, in a local directory, the checksum of its bytes).
    async fn checksum(&self, path: &Path) -> Result<Option<String>> {
        if !self.keeps_metadata() {
            return Ok(Some(sha256_hex(&self.store.get(path).await?)));
        }
        let head = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let result = self.objects().get_opts(path, head).await?;
        Ok(result
            .attributes
            .get(&Attribute::Metadata(CHECKSUM_KEY.into()))
            .map(|v| v.to_string()))
    }

    fn attributes(&self, checksum: &str) -> Attributes {
        let mut attributes = Attributes::new();
        if self.keeps_metadata() {
            attributes.insert(
                Attribute::Metadata(CHECKSUM_KEY.into()),
                checksum.to_string().into(),
            );
        }
        attributes
    }

    /// Writes one object with its checksum; returns once the archive holds all of it.
    async fn put(&self, path: &Path, bytes: Bytes, checksum: &str) -> Result<()> {
        let objects = self.objects();
        let attributes = self.attributes(checksum);
        if bytes.len() <= PART_BYTES {
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            objects
                .put_opts(path, PutPayload::from_bytes(bytes), options)
                .await?;
        } else {
            let options = PutMultipartOptions {
                attributes,
                ..PutMultipartOptions::default()
            };
            let upload = objects.put_multipart_opts(path, options).await?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            for part in bytes.chunks(PART_BYTES) {
                writer.wait_for_capacity(4).await?;
                writer.write(part);
            }
            writer.finish().await?;
        }
        Ok(())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The files a push covers: closed hours of the chosen tables, and the checkpoints that go with them.
fn selection(files: Vec<StoredFile>, options: &PushOptions) -> (Vec<StoredFile>, usize) {
    let wanted =
        |table: &str| options.tables.is_empty() || options.tables.iter().any(|t| t == table);
    let mut chosen = Vec::new();
    let mut open = 0;
    // The newest checkpoint at or before `since`, per table: the archive's state starts there.
    let mut base: BTreeMap<&'static str, Hour> = BTreeMap::new();
    if let Some(since) = options.since {
        for file in files.iter().filter(|f| f.kind == FileKind::Checkpoint) {
            if file.hour.start() <= since {
                let entry = base.entry(file.table).or_insert(file.hour);
                *entry = (*entry).max(file.hour);
            }
        }
    }
    for file in files {
        if !wanted(file.table) {
            continue;
        }
        let closed = match file.kind {
            FileKind::Events => file.hour.end() <= options.closed_before,
            FileKind::Checkpoint => file.hour.start() <= options.closed_before,
        };
        if !closed {
            open += 1;
            continue;
        }
        let recent = match (options.since, file.kind) {
            (None, _) => true,
            (Some(since), FileKind::Events) => file.hour.end() > since,
            (Some(since), FileKind::Checkpoint) => {
                file.hour.start() > since || base.get(file.table) == Some(&file.hour)
            }
        };
        if recent {
            chosen.push(file);
        }
    }
    (chosen, open)
}

/// The archived files of the hours a push covers that the store no longer has.
fn stale(
    chosen: &[StoredFile],
    archived: &HashMap<Path, u64>,
    oldest_local: &BTreeMap<&'static str, Hour>,
) -> Vec<Path> {
    let local: BTreeSet<&Path> = chosen.iter().map(|f| &f.path).collect();
    let event_hours: BTreeSet<(&str, Hour)> = chosen
        .iter()
        .filter(|f| f.kind == FileKind::Events)
        .map(|f| (f.table, f.hour))
        .collect();
    let newest_checkpointed: BTreeMap<&str, Hour> = chosen
        .iter()
        .filter(|f| f.kind == FileKind::Checkpoint)
        .fold(BTreeMap::new(), |mut newest, f| {
            let entry = newest.entry(f.table).or_insert(f.hour);
            *entry = (*entry).max(f.hour);
            newest
        });
    let mut stale: Vec<Path> = archived
        .keys()
        .filter(|path| !local.contains(path))
        .filter(|path| {
            if let Some(file) = EventFilePath::parse(path) {
                return event_hours.contains(&(file.table.as_str(), file.hour));
            }
            if let Some(checkpoint) = CheckpointPath::parse(path) {
                // A checkpoint inside the hours the store still holds, which the store has not.
                let table = checkpoint.table.as_str();
                let covered = oldest_local
                    .get(table)
                    .is_some_and(|oldest| checkpoint.hour >= *oldest);
                let pushed = newest_checkpointed
                    .get(table)
                    .is_some_and(|newest| checkpoint.hour <= *newest);
                return covered && pushed;
            }
            false
        })
        .cloned()
        .collect();
    stale.sort();
    stale
}

/// What became of one file of a push.
enum Outcome {
    Copied(u64),
    Unchanged(u64),
    Vanished,
}

/// Copies the closed partitions of `source` and their checkpoints into `archive`.
pub async fn push(
    source: &Engine,
    archive: &Archive,
    options: &PushOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<PushStats> {
    let files = source.stored_files();
    let mut oldest_local: BTreeMap<&'static str, Hour> = BTreeMap::new();
    for file in files.iter().filter(|f| f.kind == FileKind::Events) {
        let entry = oldest_local.entry(file.table).or_insert(file.hour);
        *entry = (*entry).min(file.hour);
    }
    let (mut chosen, open) = selection(files, options);
    // Events before checkpoints: an archive read mid-push never has a checkpoint ahead of the
    // events it summarises.
    chosen.sort_by(|a, b| {
        (a.kind, a.table, a.hour, &a.path).cmp(&(b.kind, b.table, b.hour, &b.path))
    });
    progress(Progress::Planned {
        files: chosen.len(),
        bytes: chosen.iter().map(|f| f.size).sum(),
    });
    let mut archived = HashMap::new();
    let tables: BTreeSet<&str> = chosen.iter().map(|f| f.table).collect();
    for table in &tables {
        archived.extend(archive.sizes(table).await?);
        archived.extend(archive.sizes(&format!("{CHECKPOINT_ROOT}/{table}")).await?);
    }
    let mut stats = PushStats {
        open,
        ..PushStats::default()
    };
    let outcomes = futures::stream::iter(chosen.iter())
        .map(|file| {
            copy_one(
                source.store(),
                archive,
                file,
                archived.get(&file.path).copied(),
            )
        })
        .buffered(options.jobs.max(1));
    futures::pin_mut!(outcomes);
    let mut index = 0;
    while let Some(outcome) = outcomes.try_next().await? {
        let path = &chosen[index].path;
        index += 1;
        match outcome {
            Outcome::Copied(bytes) => {
                stats.copied += 1;
                stats.copied_bytes += bytes;
                progress(Progress::Copied { path, bytes });
            }
            Outcome::Unchanged(bytes) => {
                stats.unchanged += 1;
                progress(Progress::Unchanged { path, bytes });
            }
            Outcome::Vanished => stats.vanished += 1,
        }
    }
    for path in stale(&chosen, &archived, &oldest_local) {
        archive.store.delete(&path).await?;
        stats.removed += 1;
        progress(Progress::Removed { path: &path });
    }
    Ok(stats)
}

/// Copies one file unless the archive already holds it, byte for byte.
async fn copy_one(
    source: &Store,
    archive: &Archive,
    file: &StoredFile,
    archived_size: Option<u64>,
) -> Result<Outcome> {
    let bytes = match source.get(&file.path).await {
        Ok(bytes) => bytes,
        Err(EngineError::ObjectStore(object_store::Error::NotFound { .. })) => {
            return Ok(Outcome::Vanished);
        }
        Err(e) => return Err(e),
    };
    let size = bytes.len() as u64;
    let checksum = sha256_hex(&bytes);
    if archived_size == Some(size)
        && archive.checksum(&file.path).await?.as_deref() == Some(checksum.as_str())
    {
        return Ok(Outcome::Unchanged(size));
    }
    archive.put(&file.path, bytes, &checksum).await?;
    if archive.size_of(&file.path).await? != Some(size) {
        return Err(EngineError::Archive(format!(
            "the archive holds {} with another size than the {size} bytes sent",
            file.path
        )));
    }
    Ok(Outcome::Copied(size))
}

/// What a verification found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: usize,
    pub checked_bytes: u64,
    /// Objects whose bytes do not match the checksum they carry, or the store's copy.
    pub corrupt: Vec<Path>,
    /// Objects that carry no checksum (not written by a push).
    pub unsigned: Vec<Path>,
    /// Closed files of the store the archive lacks or holds differently.
    pub missing: Vec<Path>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.corrupt.is_empty() && self.unsigned.is_empty() && self.missing.is_empty()
    }
}

/// Reads every event file and checkpoint of `archive` and checks its bytes against the checksum
/// it carries; with a `source`, also that every closed file of the store is archived unchanged.
pub async fn verify(
    archive: &Archive,
    source: Option<(&Engine, &PushOptions)>,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<VerifyReport> {
    let mut objects: Vec<(Path, u64)> = archive.sizes("").await?.into_iter().collect();
    objects.retain(|(path, _)| {
        EventFilePath::parse(path).is_some() || CheckpointPath::parse(path).is_some()
    });
    objects.sort();
    progress(Progress::Planned {
        files: objects.len(),
        bytes: objects.iter().map(|(_, size)| size).sum(),
    });
    let mut report = VerifyReport::default();
    let mut sums: HashMap<Path, (u64, String)> = HashMap::new();
    for (path, size) in &objects {
        let bytes = archive.store.get(path).await?;
        let actual = sha256_hex(&bytes);
        match archive.checksum(path).await? {
            None => report.unsigned.push(path.clone()),
            Some(recorded) if recorded != actual || bytes.len() as u64 != *size => {
                report.corrupt.push(path.clone());
            }
            Some(_) => {}
        }
        report.checked += 1;
        report.checked_bytes += *size;
        sums.insert(path.clone(), (*size, actual));
        progress(Progress::Checked { path, bytes: *size });
    }
    if let Some((engine, options)) = source {
        let (chosen, _) = selection(engine.stored_files(), options);
        for file in chosen {
            let Ok(bytes) = engine.store().get(&file.path).await else {
                continue;
            };
            let local = (bytes.len() as u64, sha256_hex(&bytes));
            if sums.get(&file.path) != Some(&local) {
                report.missing.push(file.path);
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::FileOrigin;

    const H: i64 = crate::paths::MICROS_PER_HOUR;
    const T0: i64 = 1_793_491_200_000_000;

    fn event(table: &'static str, hour: i64, id: u64) -> StoredFile {
        let hour = Hour::containing(T0 + hour * H);
        StoredFile {
            path: EventFilePath::new(table, hour, FileOrigin::Flush(id)).path(),
            size: 10,
            table,
            hour,
            kind: FileKind::Events,
        }
    }

    fn checkpoint(table: &'static str, hour: i64) -> StoredFile {
        let hour = Hour::containing(T0 + hour * H);
        StoredFile {
            path: CheckpointPath::new(table, hour).path(),
            size: 10,
            table,
            hour,
            kind: FileKind::Checkpoint,
        }
    }

    fn options(closed_hours: i64) -> PushOptions {
        PushOptions {
            closed_before: T0 + closed_hours * H,
            since: None,
            tables: Vec::new(),
            jobs: 1,
        }
    }

    #[test]
    fn only_closed_hours_of_the_chosen_tables_are_pushed() {
        let files = vec![
            event("bgp", 0, 1),
            event("bgp", 1, 2),
            event("bgp", 2, 3),
            event("lldp", 0, 4),
            checkpoint("bgp", 2),
            checkpoint("bgp", 3),
        ];
        let mut only_bgp = options(2);
        only_bgp.tables = vec!["bgp".into()];
        let (chosen, open) = selection(files, &only_bgp);
        let hours: Vec<_> = chosen.iter().map(|f| (f.kind, f.hour.start())).collect();
        assert_eq!(
            hours,
            [
                (FileKind::Events, T0),
                (FileKind::Events, T0 + H),
                (FileKind::Checkpoint, T0 + 2 * H)
            ]
        );
        assert_eq!(open, 2, "hour 2's events and the checkpoint at hour 3 wait");
    }

    #[test]
    fn since_keeps_the_checkpoint_the_archive_state_starts_from() {
        let files = vec![
            checkpoint("bgp", 0),
            checkpoint("bgp", 4),
            event("bgp", 3, 1),
            event("bgp", 5, 2),
            checkpoint("bgp", 6),
        ];
        let mut recent = options(10);
        recent.since = Some(T0 + 5 * H);
        let (chosen, _) = selection(files, &recent);
        let paths: Vec<_> = chosen.iter().map(|f| (f.kind, f.hour.start())).collect();
        assert_eq!(
            paths,
            [
                (FileKind::Checkpoint, T0 + 4 * H),
                (FileKind::Events, T0 + 5 * H),
                (FileKind::Checkpoint, T0 + 6 * H)
            ]
        );
    }

    #[test]
    fn files_the_store_merged_or_dropped_in_pushed_hours_are_stale() {
        let chosen = vec![event("bgp", 1, 9), checkpoint("bgp", 2)];
        let oldest = BTreeMap::from([("bgp", Hour::containing(T0 + H))]);
        let archived: HashMap<Path, u64> = [
            event("bgp", 0, 1).path, // an hour this push does not cover: kept
            event("bgp", 1, 2).path, // merged into f9 since: stale
            event("bgp", 1, 9).path,
            checkpoint("bgp", 0).path, // before the store's oldest hour: kept
            checkpoint("bgp", 1).path, // invalidated by the store: stale
            checkpoint("bgp", 5).path, // newer than any pushed checkpoint: kept
        ]
        .into_iter()
        .map(|p| (p, 10))
        .collect();
        let stale = stale(&chosen, &archived, &oldest);
        assert_eq!(stale, [event("bgp", 1, 2).path, checkpoint("bgp", 1).path]);
    }

    #[test]
    fn checksums_are_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
