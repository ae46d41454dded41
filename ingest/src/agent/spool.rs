//! The spool: every batch the agent produces is numbered and written here (and fsynced) before
//! any server sees it, and stays until every server has acknowledged it as durable.
//!
//! Files `<first seq>.spool` in the spool directory hold records
//! `[len: u32 LE][crc32: u32 LE][seq: u64 LE][table name: u16 len + UTF-8][Arrow IPC stream]`.
//! `ack-<server>` files hold the last sequence number each server acknowledged, and `id` the
//! spool's random name, which together with the hostname names this agent's stream to the server
//! (the server drops a batch whose number it already holds, so a resend is never stored twice).
//! The newest file is never deleted, so numbering continues across restarts. When the spool would
//! pass its size bound, the oldest file is dropped, counted and logged: a bounded queue.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use sonde_schema::TableDef;
use tracing::warn;

use crate::error::{Error, Result};

const HEADER: usize = 8;
/// A spool file is closed once it holds this many bytes.
const FILE_BYTES: u64 = 8 << 20;

/// A numbered batch read back from the spool.
#[derive(Debug, Clone)]
pub struct Spooled {
    pub seq: u64,
    pub table: &'static TableDef,
    pub batch: RecordBatch,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    file: u64,
    offset: u64,
    len: u32,
}

#[derive(Debug)]
struct SpoolFile {
    path: PathBuf,
    bytes: u64,
}

/// The on-disk queue shared by the batch producer and one sender per server.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    id: String,
    next_seq: u64,
    files: BTreeMap<u64, SpoolFile>,
    active: File,
    active_first: u64,
    /// Every record still wanted by some server, oldest first.
    entries: VecDeque<Entry>,
    acked: HashMap<String, u64>,
    max_bytes: u64,
    dropped_batches: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `dir` for the named servers, bounded to `max_bytes`.
    pub fn open(dir: &Path, servers: &[String], max_bytes: u64) -> Result<Spool> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let id = spool_id(dir)?;
        let mut files = BTreeMap::new();
        let mut entries = VecDeque::new();
        for first in list_files(dir)? {
            let path = file_path(dir, first);
            let (bytes, found) = scan_file(&path, first)?;
            entries.extend(found);
            files.insert(first, SpoolFile { path, bytes });
        }
        let next_seq = entries.back().map_or_else(
            || files.keys().next_back().copied().unwrap_or(1),
            |e| e.seq + 1,
        );
        // A server new to this spool gets everything it still holds.
        let before_backlog = entries.front().map_or(next_seq - 1, |e| e.seq - 1);
        let mut acked = HashMap::new();
        for server in servers {
            let seq = match read_ack(dir, server)? {
                Some(seq) => seq,
                None => {
                    write_ack(dir, server, before_backlog)?;
                    before_backlog
                }
            };
            acked.insert(server.clone(), seq);
        }
        let (active_first, active) = match files.iter().next_back() {
            Some((&first, file)) if file.bytes < FILE_BYTES => (first, open_append(&file.path)?),
            _ => {
                let path = file_path(dir, next_seq);
                let file = open_append(&path)?;
                files.insert(next_seq, SpoolFile { path, bytes: 0 });
                (next_seq, file)
            }
        };
        let mut spool = Spool {
            dir: dir.to_path_buf(),
            id,
            next_seq,
            files,
            active,
            active_first,
            entries,
            acked,
            max_bytes: max_bytes.max(FILE_BYTES * 2),
            dropped_batches: 0,
        };
        spool.release();
        Ok(spool)
    }

    /// The spool's random name; with the hostname it names the agent's stream.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Numbers a batch, writes it durably and returns its number.
    pub fn append(&mut self, table: &TableDef, batch: &RecordBatch) -> Result<u64> {
        let seq = self.next_seq;
        let record = encode(seq, table, batch)?;
        if self.files[&self.active_first].bytes >= FILE_BYTES {
            self.start_file(seq)?;
        }
        let path = self.files[&self.active_first].path.clone();
        self.active
            .write_all(&record)
            .and_then(|()| self.active.sync_data())
            .map_err(|e| Error::io(&path, e))?;
        let file = self.files.get_mut(&self.active_first).expect("active file");
        self.entries.push_back(Entry {
            seq,
            file: self.active_first,
            offset: file.bytes,
            len: record.len() as u32,
        });
        file.bytes += record.len() as u64;
        self.next_seq += 1;
        self.enforce_bound();
        Ok(seq)
    }

    /// Up to `limit` batches after the last one `server` acknowledged, oldest first.
    pub fn pending(&self, server: &str, limit: usize) -> Result<Vec<Spooled>> {
        let after = self.acked.get(server).copied().unwrap_or(0);
        let start = self.entries.partition_point(|e| e.seq <= after);
        let mut open = None;
        self.entries
            .range(start..)
            .take(limit)
            .map(|entry| self.read(entry, &mut open))
            .collect()
    }

    /// True when `server` has acknowledged everything spooled.
    pub fn caught_up(&self, server: &str) -> bool {
        self.acked.get(server).copied().unwrap_or(0) + 1 >= self.next_seq
    }

    /// Records that `server` holds every batch up to `seq` durably.
    pub fn ack(&mut self, server: &str, seq: u64) -> Result<()> {
        let acked = self.acked.entry(server.to_string()).or_default();
        if seq <= *acked {
            return Ok(());
        }
        *acked = seq;
        write_ack(&self.dir, server, seq)?;
        self.release();
        Ok(())
    }

    /// Batches not yet acknowledged by the slowest server.
    pub fn backlog(&self) -> usize {
        self.entries.len()
    }

    /// Reads one record; `open` keeps the last file opened, as records come in file order.
    fn read(&self, entry: &Entry, open: &mut Option<(u64, File)>) -> Result<Spooled> {
        let path = &self.files[&entry.file].path;
        let file = match open {
            Some((number, file)) if *number == entry.file => file,
            _ => {
                let file = File::open(path).map_err(|e| Error::io(path, e))?;
                &mut open.insert((entry.file, file)).1
            }
        };
        let mut record = vec![0; entry.len as usize];
        file.seek(SeekFrom::Start(entry.offset))
            .and_then(|_| file.read_exact(&mut record))
            .map_err(|e| Error::io(path, e))?;
        decode(&record).ok_or_else(|| Error::Spool {
            path: path.clone(),
            message: format!("batch {} is unreadable", entry.seq),
        })
    }

    fn start_file(&mut self, first: u64) -> Result<()> {
        let path = file_path(&self.dir, first);
        self.active = open_append(&path)?;
        self.active_first = first;
        self.files.insert(first, SpoolFile { path, bytes: 0 });
        Ok(())
    }

    /// Forgets records every server holds and deletes the files only they filled.
    fn release(&mut self) {
        let everyone = self.acked.values().copied().min().unwrap_or(u64::MAX);
        while self.entries.front().is_some_and(|e| e.seq <= everyone) {
            self.entries.pop_front();
        }
        let oldest_wanted = self.entries.front().map_or(self.active_first, |e| e.file);
        self.delete_files_before(oldest_wanted.min(self.active_first));
    }

    fn delete_files_before(&mut self, first: u64) {
        let old: Vec<u64> = self.files.range(..first).map(|(&k, _)| k).collect();
        for key in old {
            if let Some(file) = self.files.remove(&key)
                && let Err(e) = std::fs::remove_file(&file.path)
            {
                warn!(path = %file.path.display(), error = %e, "cannot delete a spool file");
            }
        }
    }

    /// Drops the oldest files while the spool is over its bound.
    fn enforce_bound(&mut self) {
        while self.files.values().map(|f| f.bytes).sum::<u64>() > self.max_bytes {
            let Some((&oldest, _)) = self.files.iter().next() else {
                return;
            };
            if oldest == self.active_first {
                return;
            }
            let next = self
                .files
                .range(oldest + 1..)
                .next()
                .map_or(self.next_seq, |(&k, _)| k);
            let lost = self.entries.iter().filter(|e| e.file == oldest).count() as u64;
            self.dropped_batches += lost;
            warn!(
                lost,
                total = self.dropped_batches,
                "the spool is full: dropping its oldest batches (the next resync re-sends the state)"
            );
            self.entries.retain(|e| e.file != oldest);
            for acked in self.acked.values_mut() {
                *acked = (*acked).max(next - 1);
            }
            for (server, &seq) in &self.acked {
                if let Err(e) = write_ack(&self.dir, server, seq) {
                    warn!(error = %e, "cannot record a spool cursor");
                }
            }
            self.delete_files_before(next);
        }
    }
}

fn encode(seq: u64, table: &TableDef, batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut payload = Vec::with_capacity(batch.get_array_memory_size() / 2 + 256);
    payload.extend_from_slice(&seq.to_le_bytes());
    payload.extend_from_slice(&(table.name.len() as u16).to_le_bytes());
    payload.extend_from_slice(table.name.as_bytes());
    {
        let mut writer = StreamWriter::try_new(&mut payload, batch.schema_ref())?;
        writer.write(batch)?;
        writer.finish()?;
    }
    let mut record = Vec::with_capacity(payload.len() + HEADER);
    record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    record.extend_from_slice(&payload);
    Ok(record)
}

fn decode(record: &[u8]) -> Option<Spooled> {
    let payload = record.get(HEADER..)?;
    let crc = u32::from_le_bytes(record.get(4..8)?.try_into().ok()?);
    if crc32fast::hash(payload) != crc {
        return None;
    }
    let seq = u64::from_le_bytes(payload.get(..8)?.try_into().ok()?);
    let name_len = u16::from_le_bytes(payload.get(8..10)?.try_into().ok()?) as usize;
    let name = std::str::from_utf8(payload.get(10..10 + name_len)?).ok()?;
    let table = sonde_schema::table(name)?;
    let mut reader = StreamReader::try_new(payload.get(10 + name_len..)?, None).ok()?;
    let batch = reader.next()?.ok()?;
    Some(Spooled { seq, table, batch })
}

/// Indexes the intact records of a file; a torn tail (a crash mid-write) is cut off.
fn scan_file(path: &Path, first: u64) -> Result<(u64, Vec<Entry>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut entries = Vec::new();
    let mut offset = 0usize;
    while let Some(header) = bytes.get(offset..offset + HEADER) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let Some(record) = bytes.get(offset..offset + HEADER + len) else {
            break;
        };
        let Some(spooled) = decode(record) else {
            break;
        };
        entries.push(Entry {
            seq: spooled.seq,
            file: first,
            offset: offset as u64,
            len: (HEADER + len) as u32,
        });
        offset += HEADER + len;
    }
    if offset < bytes.len() {
        warn!(path = %path.display(), bytes = bytes.len() - offset, "cutting a torn spool tail");
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        file.set_len(offset as u64)
            .map_err(|e| Error::io(path, e))?;
    }
    Ok((offset as u64, entries))
}

fn list_files(dir: &Path) -> Result<Vec<u64>> {
    let mut firsts: Vec<u64> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".spool")?.parse().ok())
        .collect();
    firsts.sort_unstable();
    Ok(firsts)
}

fn file_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}.spool"))
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// The cursor file of a server: its address made safe for a file name.
fn ack_path(dir: &Path, server: &str) -> PathBuf {
    let safe: String = server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    dir.join(format!("ack-{safe}"))
}

fn read_ack(dir: &Path, server: &str) -> Result<Option<u64>> {
    let path = ack_path(dir, server);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().parse().ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Replaces the cursor file atomically (write, fsync, rename).
fn write_ack(dir: &Path, server: &str, seq: u64) -> Result<()> {
    let path = ack_path(dir, server);
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary).map_err(|e| Error::io(&temporary, e))?;
    file.write_all(seq.to_string().as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(|e| Error::io(&temporary, e))?;
    std::fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))
}

/// The spool's random name, created on first use.
fn spool_id(dir: &Path) -> Result<String> {
    let path = dir.join("id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    let id = random_id();
    let mut file = File::create(&path).map_err(|e| Error::io(&path, e))?;
    file.write_all(id.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(&path, e))?;
    Ok(id)
}

fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use sonde_schema::families::interfaces;

    use super::*;
    use sonde_schema::row::{Row, to_batch};

    fn batch(n: u32) -> RecordBatch {
        let rows: Vec<Row> = (0..n)
            .map(|i| {
                Row::new(&interfaces::TABLE, 1_000 + i64::from(i))
                    .set("ifname", format!("swp{i}"))
                    .set("mtu", 9216u32)
            })
            .collect();
        to_batch(&interfaces::TABLE, "leaf01", &rows).expect("batch")
    }

    #[test]
    fn replays_unacknowledged_batches_in_order_after_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let servers = vec!["a".to_string(), "b".to_string()];
        let id = {
            let mut spool = Spool::open(dir.path(), &servers, 1 << 30).expect("open");
            for n in 1..=5 {
                assert_eq!(
                    spool.append(&interfaces::TABLE, &batch(n)).expect("append"),
                    u64::from(n)
                );
            }
            spool.ack("a", 3).expect("ack");
            spool.ack("b", 5).expect("ack");
            spool.id().to_string()
        };
        let mut spool = Spool::open(dir.path(), &servers, 1 << 30).expect("reopen");
        assert_eq!(spool.id(), id, "the stream keeps its name");
        let pending = spool.pending("a", 10).expect("pending");
        assert_eq!(pending.iter().map(|s| s.seq).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(pending[1].batch.num_rows(), 5);
        assert!(spool.pending("b", 10).expect("pending").is_empty());
        assert_eq!(
            spool.append(&interfaces::TABLE, &batch(1)).expect("append"),
            6,
            "numbering continues"
        );
        spool.ack("a", 6).expect("ack");
        spool.ack("b", 6).expect("ack");
        assert_eq!(spool.backlog(), 0);
        drop(spool);
        let spool = Spool::open(dir.path(), &servers, 1 << 30).expect("reopen");
        assert!(spool.caught_up("a") && spool.caught_up("b"));
        assert_eq!(
            spool.next_seq, 7,
            "numbering survives even when everything was acknowledged"
        );
    }

    #[test]
    fn cuts_a_torn_tail_and_keeps_what_was_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let servers = vec!["a".to_string()];
        {
            let mut spool = Spool::open(dir.path(), &servers, 1 << 30).expect("open");
            spool.ack("a", 0).expect("ack");
            spool.append(&interfaces::TABLE, &batch(2)).expect("append");
            spool.append(&interfaces::TABLE, &batch(3)).expect("append");
        }
        let file = list_files(dir.path()).expect("list")[0];
        let path = file_path(dir.path(), file);
        let len = std::fs::metadata(&path).expect("metadata").len();
        OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open")
            .set_len(len - 7)
            .expect("tear");
        let spool = Spool::open(dir.path(), &servers, 1 << 30).expect("reopen");
        let pending = spool.pending("a", 10).expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].batch.num_rows(), 2);
    }
}
