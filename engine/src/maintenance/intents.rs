//! The intent log of rewrites in progress, and the recovery of the ones a crash interrupted.
//!
//! A rewrite that a crash could leave half-done first writes an intent file into the WAL
//! directory (written, fsynced, directory fsynced). A flush intent `flush-<segment>.intent` is
//! empty and names the sealed WAL segment: if that segment is still there at start-up, the flush's
//! files are deleted and the WAL replays the rows instead. A compaction intent
//! `compact-<id>.intent` holds JSON `{"output": path, "inputs": [path, …]}`: if the output exists,
//! the inputs are deleted; if not, nothing had changed. Either way every event is in the tree
//! exactly once. The rewrite removes its intent when it is done.

use std::path::{Path as FsPath, PathBuf};

use object_store::path::Path;
use serde::{Deserialize, Serialize};
use sonde_schema::ALL_TABLES;

use crate::catalog::Catalog;
use crate::error::{EngineError, Result};
use crate::paths::{EventFilePath, FileOrigin};
use crate::store::Store;

const FLUSH: &str = "flush-";
const COMPACTION: &str = "compact-";
const SUFFIX: &str = ".intent";

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CompactionIntent {
    pub output: String,
    pub inputs: Vec<String>,
}

/// Intent files of rewrites in progress.
#[derive(Debug)]
pub(crate) struct Intents {
    dir: PathBuf,
}

impl Intents {
    pub fn new(dir: PathBuf) -> Self {
        Intents { dir }
    }

    fn flush_path(&self, segment: u64) -> PathBuf {
        self.dir.join(format!("{FLUSH}{segment:012}{SUFFIX}"))
    }

    fn compaction_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{COMPACTION}{id:016}{SUFFIX}"))
    }

    fn write(&self, path: &FsPath, contents: &[u8]) -> Result<()> {
        let io = |e| EngineError::io(path.display(), e);
        std::fs::write(path, contents).map_err(io)?;
        std::fs::File::open(path)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| EngineError::io(self.dir.display(), e))
    }

    fn remove(&self, path: &FsPath) -> Result<()> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(EngineError::io(path.display(), e)),
        }
    }

    pub fn begin_flush(&self, segment: u64) -> Result<()> {
        self.write(&self.flush_path(segment), b"")
    }

    pub fn end_flush(&self, segment: u64) -> Result<()> {
        self.remove(&self.flush_path(segment))
    }

    pub fn begin_compaction(&self, id: u64, output: &Path, inputs: &[Path]) -> Result<()> {
        let intent = CompactionIntent {
            output: output.to_string(),
            inputs: inputs.iter().map(|p| p.to_string()).collect(),
        };
        let json = serde_json::to_vec(&intent).map_err(|e| EngineError::Wal(e.to_string()))?;
        self.write(&self.compaction_path(id), &json)
    }

    pub fn end_compaction(&self, id: u64) -> Result<()> {
        self.remove(&self.compaction_path(id))
    }

    /// Finishes or undoes the rewrites a crash interrupted. A read-only reader only corrects its
    /// catalog, so that it too sees every event once, and leaves the store and the intents alone.
    pub async fn recover(
        &self,
        store: &Store,
        catalog: &mut Catalog,
        wal_segments: &[u64],
        read_only: bool,
    ) -> Result<()> {
        let store = (!read_only).then_some(store);
        for name in self.intent_names() {
            let path = self.dir.join(&name);
            if let Some(segment) = intent_id(&name, FLUSH) {
                if wal_segments.iter().any(|s| *s <= segment) {
                    undo_flush(store, catalog, segment).await?;
                }
            } else if intent_id(&name, COMPACTION).is_some() {
                let bytes = std::fs::read(&path).map_err(|e| EngineError::io(path.display(), e))?;
                if let Ok(intent) = serde_json::from_slice::<CompactionIntent>(&bytes) {
                    finish_compaction(store, catalog, intent).await?;
                }
            } else {
                continue;
            }
            if !read_only {
                self.remove(&path)?;
            }
        }
        Ok(())
    }

    /// Every file name in the directory, sorted (so intents are recovered oldest first).
    fn intent_names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }
}

/// The number in `<prefix><number>.intent`.
fn intent_id(name: &str, prefix: &str) -> Option<u64> {
    name.strip_prefix(prefix)?
        .strip_suffix(SUFFIX)?
        .parse()
        .ok()
}

/// Forgets (and, when writable, deletes) every file the flush of `segment` wrote.
async fn undo_flush(store: Option<&Store>, catalog: &mut Catalog, segment: u64) -> Result<()> {
    for table in ALL_TABLES {
        let state = catalog.table_mut(table);
        let mut doomed = Vec::new();
        for files in state.files.values_mut() {
            files.retain(|f| {
                let keep = f.path.origin != FileOrigin::Flush(segment);
                if !keep {
                    doomed.push(f.path.path());
                }
                keep
            });
        }
        state.files.retain(|_, files| !files.is_empty());
        for path in doomed {
            if let Some(store) = store {
                tracing::warn!(%path, "removing a file of an interrupted flush; the WAL replays its rows");
                store.delete(&path).await?;
            }
        }
    }
    Ok(())
}

/// When the compaction's output made it into the tree, forgets (and, when writable, deletes) its inputs.
async fn finish_compaction(
    store: Option<&Store>,
    catalog: &mut Catalog,
    intent: CompactionIntent,
) -> Result<()> {
    if !output_in_catalog(catalog, &intent.output) {
        return Ok(());
    }
    for input in &intent.inputs {
        let input = Path::from(input.as_str());
        forget_file(catalog, &input);
        if let Some(store) = store {
            store.delete(&input).await?;
        }
    }
    Ok(())
}

fn output_in_catalog(catalog: &Catalog, output: &str) -> bool {
    EventFilePath::parse(&Path::from(output)).is_some_and(|out| {
        sonde_schema::table(&out.table)
            .and_then(|t| catalog.table(t).files.get(&out.hour))
            .is_some_and(|files| files.iter().any(|f| f.path == out))
    })
}

fn forget_file(catalog: &mut Catalog, path: &Path) {
    if let Some(parsed) = EventFilePath::parse(path)
        && let Some(table) = sonde_schema::table(&parsed.table)
        && let Some(files) = catalog.table_mut(table).files.get_mut(&parsed.hour)
    {
        files.retain(|f| f.path != parsed);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use sonde_schema::families::interfaces;

    use super::*;
    use crate::testing::{flushed, hour, listed, local_store};

    /// A store holding `files`, the catalog listed from it, and an intent directory.
    struct Fixture {
        _dir: tempfile::TempDir,
        store: Store,
        catalog: Catalog,
        intents: Intents,
        intent_dir: PathBuf,
    }

    async fn fixture(files: &[Path]) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = local_store(&dir.path().join("store"));
        for path in files {
            store
                .put_durable(path, Bytes::from_static(b"x"))
                .await
                .expect("put");
        }
        let intent_dir = dir.path().join("wal");
        std::fs::create_dir_all(&intent_dir).expect("mkdir");
        Fixture {
            catalog: Catalog::load(&store).await.expect("load"),
            store,
            intents: Intents::new(intent_dir.clone()),
            intent_dir,
            _dir: dir,
        }
    }

    impl Fixture {
        fn paths(&self) -> Vec<String> {
            let mut paths: Vec<String> = self
                .catalog
                .table(&interfaces::TABLE)
                .files
                .values()
                .flatten()
                .map(|f| f.path.path().to_string())
                .collect();
            paths.sort();
            paths
        }

        fn intent_files(&self) -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(&self.intent_dir)
                .expect("read dir")
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect();
            names.sort();
            names
        }

        async fn recover(&mut self, wal_segments: &[u64], read_only: bool) {
            self.intents
                .recover(&self.store, &mut self.catalog, wal_segments, read_only)
                .await
                .expect("recover");
        }
    }

    fn names(paths: &[&Path]) -> Vec<String> {
        let mut names: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        names.sort();
        names
    }

    #[test]
    fn intent_names_carry_their_number() {
        assert_eq!(intent_id("flush-000000000012.intent", FLUSH), Some(12));
        assert_eq!(
            intent_id("compact-0000000000000007.intent", COMPACTION),
            Some(7)
        );
        assert_eq!(intent_id("flush-000000000012.intent", COMPACTION), None);
        assert_eq!(intent_id("flush-12.tmp", FLUSH), None);
        assert_eq!(intent_id("flush-x.intent", FLUSH), None);
    }

    #[tokio::test]
    async fn a_flush_whose_segment_survived_is_undone() {
        let kept = flushed(0, 2, 1).path.path();
        let undone = [flushed(0, 3, 1).path.path(), flushed(1, 3, 1).path.path()];
        let mut f = fixture(&[kept.clone(), undone[0].clone(), undone[1].clone()]).await;
        f.intents.begin_flush(3).expect("begin");
        assert_eq!(f.intent_files(), ["flush-000000000003.intent"]);

        f.recover(&[3, 4], false).await;
        assert_eq!(
            f.paths(),
            names(&[&kept]),
            "the WAL replays segment 3 instead"
        );
        assert_eq!(listed(&f.store, "interfaces").await, names(&[&kept]));
        assert!(f.intent_files().is_empty());
    }

    #[tokio::test]
    async fn a_flush_whose_segment_was_retired_is_kept() {
        let files = [flushed(0, 3, 1).path.path()];
        let mut f = fixture(&files).await;
        f.intents.begin_flush(3).expect("begin");
        f.recover(&[4], false).await;
        assert_eq!(f.paths(), names(&[&files[0]]));
        assert!(f.intent_files().is_empty());
    }

    #[tokio::test]
    async fn a_compaction_whose_output_exists_is_finished() {
        let inputs = [flushed(0, 1, 1).path.path(), flushed(0, 2, 1).path.path()];
        let output = EventFilePath::new("interfaces", hour(0), FileOrigin::Compaction(9)).path();
        let mut f = fixture(&[inputs[0].clone(), inputs[1].clone(), output.clone()]).await;
        f.intents
            .begin_compaction(9, &output, &inputs)
            .expect("begin");
        assert_eq!(f.intent_files(), ["compact-0000000000000009.intent"]);

        f.recover(&[], false).await;
        assert_eq!(f.paths(), names(&[&output]));
        assert_eq!(listed(&f.store, "interfaces").await, names(&[&output]));
        assert!(f.intent_files().is_empty());
    }

    #[tokio::test]
    async fn a_compaction_without_its_output_changed_nothing() {
        let inputs = [flushed(0, 1, 1).path.path(), flushed(0, 2, 1).path.path()];
        let output = EventFilePath::new("interfaces", hour(0), FileOrigin::Compaction(9)).path();
        let mut f = fixture(&inputs).await;
        f.intents
            .begin_compaction(9, &output, &inputs)
            .expect("begin");
        f.recover(&[], false).await;
        assert_eq!(f.paths(), names(&[&inputs[0], &inputs[1]]));
        assert!(f.intent_files().is_empty());
    }

    #[tokio::test]
    async fn a_reader_corrects_its_catalog_and_touches_nothing() {
        let inputs = [flushed(0, 1, 1).path.path(), flushed(0, 2, 1).path.path()];
        let output = EventFilePath::new("interfaces", hour(0), FileOrigin::Compaction(9)).path();
        let unflushed = flushed(1, 5, 1).path.path();
        let all = [
            inputs[0].clone(),
            inputs[1].clone(),
            output.clone(),
            unflushed.clone(),
        ];
        let mut f = fixture(&all).await;
        f.intents
            .begin_compaction(9, &output, &inputs)
            .expect("begin");
        f.intents.begin_flush(5).expect("begin");

        f.recover(&[5], true).await;
        assert_eq!(f.paths(), names(&[&output]));
        assert_eq!(
            listed(&f.store, "interfaces").await,
            names(&all.iter().collect::<Vec<_>>())
        );
        assert_eq!(f.intent_files().len(), 2, "the intents stay for the writer");
        f.intents.end_flush(5).expect("end");
        f.intents.end_compaction(9).expect("end");
        assert!(f.intent_files().is_empty());
    }
}
