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
