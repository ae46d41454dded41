//! The write-ahead log: a batch is acknowledged only once it is fsynced here.
//!
//! Segments are files `<seq>.wal` starting with an 8-byte magic. Each record is
//! `[len: u32 LE][crc32 of payload: u32 LE][payload]`, the payload being the table name
//! (`u16` length + UTF-8), the batch's origin (`u16` length + source name, `u64 LE` sequence
//! number; an empty name when the batch has none) and the batch as an Arrow IPC stream.
//! A payload with an empty table name is a sources record instead: the JSON map from each source
//! to the highest sequence number the log holds for it. Every segment starts with one, so the
//! map survives when older segments are retired, and a resent batch is recognised after a
//! restart. One writer thread
//! takes appends from a channel and commits them in groups: everything queued while the
//! previous fsync ran is written and synced together, then published to the memtable and acked.
//! Replay stops at the first torn or corrupt record of a segment and (when writable) truncates it there.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use arrow::array::RecordBatch;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use sonde_schema::TableDef;
use tokio::sync::oneshot;

use crate::error::{EngineError, Result};

const MAGIC: &[u8; 8] = b"SNDWAL02";
const RECORD_HEADER: usize = 8;
/// Upper bound of appends committed by one fsync.
const MAX_GROUP: usize = 4096;

/// Where a batch came from: a writer's name and the batch's number in that writer's stream.
/// A writer that resends a batch (its acknowledgement was lost) sends the same number again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub source: Arc<str>,
    pub seq: u64,
}

/// The highest sequence number held per source.
pub(crate) type Sources = HashMap<String, u64>;

/// An appended batch together with the segment that holds it.
#[derive(Debug, Clone)]
pub(crate) struct Durable {
    pub segment: u64,
    pub table: &'static TableDef,
    pub batch: RecordBatch,
    pub origin: Option<Origin>,
}

/// Encodes one record: header, table name, origin and IPC stream.
pub(crate) fn encode_record(
    table: &TableDef,
    batch: &RecordBatch,
    origin: Option<&Origin>,
) -> Result<Vec<u8>> {
    let mut payload = Vec::with_capacity(batch.get_array_memory_size() / 2 + 256);
    put_str(&mut payload, table.name);
    put_str(&mut payload, origin.map_or("", |o| &o.source));
    payload.extend_from_slice(&origin.map_or(0, |o| o.seq).to_le_bytes());
    {
        let mut writer = StreamWriter::try_new(&mut payload, batch.schema_ref())?;
        writer.write(batch)?;
        writer.finish()?;
    }
    Ok(frame(payload))
}

fn encode_sources(sources: &Sources) -> Vec<u8> {
    let mut payload = Vec::new();
    put_str(&mut payload, "");
    payload.extend_from_slice(
        serde_json::to_string(sources)
            .unwrap_or_default()
            .as_bytes(),
    );
    frame(payload)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn frame(payload: Vec<u8>) -> Vec<u8> {
    let mut record = Vec::with_capacity(payload.len() + RECORD_HEADER);
    record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    record.extend_from_slice(&payload);
    record
}

enum Decoded {
    Batch(&'static TableDef, RecordBatch, Option<Origin>),
    Sources(Sources),
}

fn get_str(payload: &[u8], at: &mut usize) -> Option<String> {
    let len = u16::from_le_bytes(payload.get(*at..*at + 2)?.try_into().ok()?) as usize;
    let s = std::str::from_utf8(payload.get(*at + 2..*at + 2 + len)?).ok()?;
    *at += 2 + len;
    Some(s.to_string())
}

fn decode_payload(payload: &[u8]) -> Option<Decoded> {
    let mut at = 0;
    let name = get_str(payload, &mut at)?;
    if name.is_empty() {
        return serde_json::from_slice(payload.get(at..)?)
            .ok()
            .map(Decoded::Sources);
    }
    let table = sonde_schema::table(&name)?;
    let source = get_str(payload, &mut at)?;
    let seq = u64::from_le_bytes(payload.get(at..at + 8)?.try_into().ok()?);
    let mut reader = StreamReader::try_new(payload.get(at + 8..)?, None).ok()?;
    let batch = reader.next()?.ok()?;
    let batch = sonde_schema::conform_batch(table, &batch).ok()?;
    let origin = (!source.is_empty()).then(|| Origin {
        source: source.into(),
        seq,
    });
    Some(Decoded::Batch(table, batch, origin))
}

/// Raises the map's entry for the origin's source to its sequence number.
pub(crate) fn note_origin(sources: &mut Sources, origin: &Origin) {
    raise(sources, &origin.source, origin.seq);
}

fn raise(sources: &mut Sources, source: &str, seq: u64) {
    match sources.get_mut(source) {
        Some(seen) => *seen = (*seen).max(seq),
        None => {
            sources.insert(source.to_string(), seq);
        }
    }
}

pub(crate) fn segment_path(dir: &Path, segment: u64) -> PathBuf {
    dir.join(format!("{segment:012}.wal"))
}

/// Segment numbers present in `dir`, ascending.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u64>> {
    let entries = std::fs::read_dir(dir).map_err(|e| EngineError::io(dir.display(), e))?;
    let mut segments: Vec<u64> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".wal")?.parse().ok())
        .collect();
    segments.sort_unstable();
    Ok(segments)
}

/// What replay found.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    pub records: Vec<Durable>,
    pub sources: Sources,
    pub segments: Vec<u64>,
    /// Bytes of torn or corrupt tails that were dropped, per segment.
    pub dropped: Vec<(u64, u64)>,
}

/// Reads every segment in order; truncates torn tails unless `read_only`.
pub(crate) fn replay(dir: &Path, read_only: bool) -> Result<Replay> {
    let segments = list_segments(dir)?;
    let mut replay = Replay::default();
    for &segment in &segments {
        let path = segment_path(dir, segment);
        let bytes = std::fs::read(&path).map_err(|e| EngineError::io(path.display(), e))?;
        let good_until = read_records(segment, &bytes, &mut replay);
        if good_until < bytes.len() {
            replay
                .dropped
                .push((segment, (bytes.len() - good_until) as u64));
            if !read_only {
                truncate(&path, good_until as u64)?;
            }
        }
    }
    replay.segments = segments;
    Ok(replay)
}

/// Appends the intact records of one segment and returns where the intact prefix ends.
fn read_records(segment: u64, bytes: &[u8], out: &mut Replay) -> usize {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return 0;
    }
    let mut offset = MAGIC.len();
    while let Some(header) = bytes.get(offset..offset + RECORD_HEADER) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let start = offset + RECORD_HEADER;
        let Some(payload) = bytes.get(start..start + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        match decode_payload(payload) {
            None => break,
            Some(Decoded::Sources(sources)) => {
                for (source, seq) in sources {
                    raise(&mut out.sources, &source, seq);
                }
            }
            Some(Decoded::Batch(table, batch, origin)) => {
                if let Some(origin) = &origin {
                    note_origin(&mut out.sources, origin);
                }
                out.records.push(Durable {
                    segment,
                    table,
                    batch,
                    origin,
                });
            }
        }
        offset = start + len;
    }
    offset
}

fn truncate(path: &Path, len: u64) -> Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| EngineError::io(path.display(), e))?;
    let len = len.max(MAGIC.len() as u64);
    file.set_len(len)
        .and_then(|()| file.sync_all())
        .map_err(|e| EngineError::io(path.display(), e))
}

enum Command {
    Append {
        record: Vec<u8>,
        durable: Durable,
        ack: oneshot::Sender<Result<u64>>,
    },
    /// Seal the current segment and start the next; answers the sealed segment's number.
    Rotate { ack: oneshot::Sender<Result<u64>> },
}

/// Called with each committed group, after fsync and before the acks are sent.
pub(crate) type OnDurable = Box<dyn Fn(Vec<Durable>) + Send>;

/// Handle to the writer thread.
pub(crate) struct WalWriter {
    tx: Option<mpsc::Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl WalWriter {
    /// Starts the writer on a fresh segment numbered `first_segment`.
    /// `sources` is what the log already holds per source; every segment starts with it.
    pub fn start(
        dir: PathBuf,
        first_segment: u64,
        sources: Sources,
        on_durable: OnDurable,
    ) -> Result<Self> {
        let segment = Segment::create(&dir, first_segment, &sources)?;
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sonde-wal".into())
            .spawn(move || {
                GroupCommitter {
                    dir,
                    segment,
                    sources,
                    on_durable,
                    failed: None,
                }
                .run(rx)
            })
            .map_err(|e| EngineError::Wal(format!("cannot start the writer thread: {e}")))?;
        Ok(WalWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues a record; the receiver resolves with its segment once it is durable and visible.
    pub fn submit(
        &self,
        record: Vec<u8>,
        durable: Durable,
    ) -> Result<oneshot::Receiver<Result<u64>>> {
        let (ack, rx) = oneshot::channel();
        self.send(Command::Append {
            record,
            durable,
            ack,
        })?;
        Ok(rx)
    }

    /// Asks for the current segment to be sealed; the receiver gets its number once it is synced.
    pub fn rotate(&self) -> Result<oneshot::Receiver<Result<u64>>> {
        let (ack, rx) = oneshot::channel();
        self.send(Command::Rotate { ack })?;
        Ok(rx)
    }

    fn send(&self, command: Command) -> Result<()> {
        self.tx
            .as_ref()
            .ok_or(EngineError::Closed)?
            .send(command)
            .map_err(|_| EngineError::Closed)
    }

    /// Stops the thread after it has committed everything queued.
    pub fn stop(&mut self) {
        self.tx.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WalWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Segment {
    number: u64,
    path: PathBuf,
    file: BufWriter<File>,
}

impl Segment {
    fn create(dir: &Path, number: u64, sources: &Sources) -> Result<Self> {
        let path = segment_path(dir, number);
        let io = |e| EngineError::io(path.display(), e);
        let mut file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        file.write_all(MAGIC)
            .and_then(|()| file.write_all(&encode_sources(sources)))
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| EngineError::io(dir.display(), e))?;
        Ok(Segment {
            number,
            path,
            file: BufWriter::with_capacity(1 << 20, file),
        })
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_data()
    }
}

struct GroupCommitter {
    dir: PathBuf,
    segment: Segment,
    sources: Sources,
    on_durable: OnDurable,
    /// Once a write fails the log refuses everything: the segment's tail is unknown.
    failed: Option<String>,
}

type Pending = Vec<(Durable, oneshot::Sender<Result<u64>>)>;

impl GroupCommitter {
    fn run(mut self, rx: mpsc::Receiver<Command>) {
        while let Ok(first) = rx.recv() {
            let mut pending: Pending = Vec::new();
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Append {
                        record,
                        durable,
                        ack,
                    } => self.write(record, durable, ack, &mut pending),
                    Command::Rotate { ack } => {
                        self.commit(std::mem::take(&mut pending));
                        let _ = ack.send(self.rotate());
                    }
                }
                if pending.len() < MAX_GROUP {
                    next = rx.try_recv().ok();
                }
            }
            self.commit(pending);
        }
        self.commit(Vec::new());
    }

    fn write(
        &mut self,
        record: Vec<u8>,
        mut durable: Durable,
        ack: oneshot::Sender<Result<u64>>,
        pending: &mut Pending,
    ) {
        durable.segment = self.segment.number;
        if let Some(origin) = &durable.origin {
            note_origin(&mut self.sources, origin);
        }
        if self.failed.is_none()
            && let Err(e) = self.segment.file.write_all(&record)
        {
            self.failed = Some(format!("write to {}: {e}", self.segment.path.display()));
        }
        pending.push((durable, ack));
    }

    fn commit(&mut self, pending: Pending) {
        if pending.is_empty() {
            return;
        }
        if self.failed.is_none()
            && let Err(e) = self.segment.sync()
        {
            self.failed = Some(format!("fsync of {}: {e}", self.segment.path.display()));
        }
        if let Some(reason) = &self.failed {
            for (_, ack) in pending {
                let _ = ack.send(Err(EngineError::Wal(reason.clone())));
            }
            return;
        }
        let (durables, acks): (Vec<_>, Vec<_>) = pending.into_iter().unzip();
        (self.on_durable)(durables);
        for ack in acks {
            let _ = ack.send(Ok(self.segment.number));
        }
    }

    fn rotate(&mut self) -> Result<u64> {
        if let Some(reason) = &self.failed {
            return Err(EngineError::Wal(reason.clone()));
        }
        let sealed = self.segment.number;
        self.segment
            .sync()
            .map_err(|e| EngineError::io(self.segment.path.display(), e))?;
        self.segment = Segment::create(&self.dir, sealed + 1, &self.sources)?;
        Ok(sealed)
    }
}
