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

#[cfg(test)]
mod tests {
    use parking_lot::Mutex;
    use sonde_schema::families::interfaces;
    use sonde_schema::row::{Row, to_batch};

    use super::*;

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

    fn origin(source: &str, seq: u64) -> Origin {
        Origin {
            source: source.into(),
            seq,
        }
    }

    fn record(n: u32, origin: Option<&Origin>) -> Vec<u8> {
        encode_record(&interfaces::TABLE, &batch(n), origin).expect("encode")
    }

    /// A segment file as the writer lays it out: magic, sources record, then the records.
    fn segment_bytes(sources: &Sources, records: &[Vec<u8>]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(encode_sources(sources));
        records.iter().for_each(|r| bytes.extend(r));
        bytes
    }

    fn rows(replay: &Replay) -> Vec<usize> {
        replay.records.iter().map(|r| r.batch.num_rows()).collect()
    }

    #[test]
    fn records_are_framed_with_length_and_crc_of_the_payload() {
        let bytes = record(2, None);
        let len = u32::from_le_bytes(bytes[0..4].try_into().expect("len")) as usize;
        let crc = u32::from_le_bytes(bytes[4..8].try_into().expect("crc"));
        assert_eq!(len, bytes.len() - RECORD_HEADER);
        assert_eq!(crc, crc32fast::hash(&bytes[RECORD_HEADER..]));
        let name_len = u16::from_le_bytes(bytes[8..10].try_into().expect("name")) as usize;
        assert_eq!(&bytes[10..10 + name_len], b"interfaces");
    }

    #[test]
    fn replay_cuts_a_torn_tail_and_keeps_the_whole_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let third = record(3, None);
        let mut bytes = segment_bytes(&Sources::new(), &[record(1, None), record(2, None)]);
        let whole = bytes.len();
        bytes.extend(&third[..third.len() / 2]);
        let path = segment_path(dir.path(), 1);
        std::fs::write(&path, &bytes).expect("write");

        let replay = replay(dir.path(), false).expect("replay");
        assert_eq!(rows(&replay), [1, 2]);
        assert_eq!(replay.segments, [1]);
        assert_eq!(replay.dropped, [(1, (third.len() / 2) as u64)]);
        assert_eq!(std::fs::metadata(&path).expect("stat").len(), whole as u64);

        let again = super::replay(dir.path(), false).expect("replay again");
        assert_eq!(rows(&again), [1, 2]);
        assert!(again.dropped.is_empty(), "the tail was cut the first time");
    }

    #[test]
    fn replay_stops_at_a_corrupt_record_and_a_reader_leaves_the_file_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = record(1, None);
        let mut bytes = segment_bytes(
            &Sources::new(),
            &[first.clone(), record(2, None), record(3, None)],
        );
        let second_payload = bytes.len() - record(3, None).len() - 1;
        bytes[second_payload] ^= 0xff;
        let path = segment_path(dir.path(), 4);
        std::fs::write(&path, &bytes).expect("write");

        let replay = replay(dir.path(), true).expect("replay");
        assert_eq!(
            rows(&replay),
            [1],
            "nothing after the corrupt record is trusted"
        );
        let good = MAGIC.len() + encode_sources(&Sources::new()).len() + first.len();
        assert_eq!(replay.dropped, [(4, (bytes.len() - good) as u64)]);
        assert_eq!(
            std::fs::read(&path).expect("read"),
            bytes,
            "read-only replay truncates nothing"
        );
    }

    #[test]
    fn a_segment_without_the_magic_holds_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = b"NOTAWAL!".to_vec();
        bytes.extend(record(1, None));
        std::fs::write(segment_path(dir.path(), 1), &bytes).expect("write");
        let replay = replay(dir.path(), true).expect("replay");
        assert!(replay.records.is_empty());
        assert_eq!(replay.dropped, [(1, bytes.len() as u64)]);
    }

    #[test]
    fn replay_keeps_the_highest_sequence_per_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let older = Sources::from([("a".to_string(), 9), ("b".to_string(), 2)]);
        let records = [
            record(1, Some(&origin("a", 4))),
            record(1, Some(&origin("b", 3))),
        ];
        std::fs::write(segment_path(dir.path(), 2), segment_bytes(&older, &records))
            .expect("write");
        let replay = replay(dir.path(), false).expect("replay");
        assert_eq!(
            replay.sources,
            Sources::from([("a".to_string(), 9), ("b".to_string(), 3)])
        );
        assert_eq!(replay.records[1].origin, Some(origin("b", 3)));
    }

    #[test]
    fn the_writer_acks_after_publishing_and_rotation_seals_the_segment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let published: Arc<Mutex<Vec<u64>>> = Arc::default();
        let seen = Arc::clone(&published);
        let on_durable: OnDurable =
            Box::new(move |group| seen.lock().extend(group.iter().map(|d| d.segment)));
        let sources = Sources::from([("old".to_string(), 7)]);
        let mut writer =
            WalWriter::start(dir.path().to_path_buf(), 5, sources, on_durable).expect("start");
        let submit = |n: u32, origin: Option<Origin>| {
            let durable = Durable {
                segment: 0,
                table: &interfaces::TABLE,
                batch: batch(n),
                origin: origin.clone(),
            };
            writer
                .submit(record(n, origin.as_ref()), durable)
                .expect("submit")
                .blocking_recv()
                .expect("ack")
                .expect("durable")
        };
        assert_eq!(submit(1, None), 5);
        assert_eq!(submit(2, Some(origin("agent", 1))), 5);
        assert_eq!(published.lock().clone(), [5, 5], "published before the ack");
        let sealed = writer
            .rotate()
            .expect("rotate")
            .blocking_recv()
            .expect("ack");
        assert_eq!(sealed.expect("sealed"), 5);
        assert_eq!(submit(3, None), 6);
        writer.stop();

        let replay = replay(dir.path(), false).expect("replay");
        assert_eq!(replay.segments, [5, 6]);
        assert_eq!(rows(&replay), [1, 2, 3]);
        let segments: Vec<u64> = replay.records.iter().map(|r| r.segment).collect();
        assert_eq!(segments, [5, 5, 6]);
        assert!(replay.dropped.is_empty());
        let expected = Sources::from([("old".to_string(), 7), ("agent".to_string(), 1)]);
        assert_eq!(replay.sources, expected);
        assert!(
            writer
                .submit(record(1, None), replay.records[0].clone())
                .is_err()
        );

        std::fs::remove_file(segment_path(dir.path(), 5)).expect("retire");
        let retired = super::replay(dir.path(), false).expect("replay");
        assert_eq!(rows(&retired), [3]);
        assert_eq!(
            retired.sources, expected,
            "every segment starts with the sources"
        );
    }
}
