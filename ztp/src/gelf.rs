//! GELF over UDP: the devices' own business events (CTRLD's ZTP0011I…ZTP0043E, in the seed's
//! GELF 1.1 shape) become rows of `ztp_events` beside what the DHCP and HTTP servers saw.
//!
//! A datagram is a JSON message, plain or compressed (gzip or zlib), or one chunk of a larger
//! message (magic `1e 0f`, an 8-byte message id, the chunk's number and the count, at most 128
//! chunks). Chunks are reassembled per sender and message id; a message whose chunks do not all
//! arrive within [`CHUNK_TIMEOUT`] is dropped and counted, and at most [`MAX_PENDING`] messages
//! wait for their chunks at once. The row's time is the message's `timestamp` when it lies within
//! a day of the receive time (a device whose clock is unset would otherwise put its events in
//! 1970), else the receive time. Anything that is not a GELF message is counted and dropped.

use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{Map, Value};
use sonde_schema::families::ztp::EVENTS;
use sonde_schema::row::Row;
use tokio::net::UdpSocket;
use tracing::info;

use crate::error::{Result, ZtpError};
use crate::events::Recorder;

/// Longest a chunked message waits for its missing chunks.
pub const CHUNK_TIMEOUT: Duration = Duration::from_secs(5);
/// Chunked messages waiting at once, at most.
pub const MAX_PENDING: usize = 1024;
/// The largest message accepted once decompressed.
pub const MAX_MESSAGE: usize = 1 << 20;
const MAX_CHUNKS: u8 = 128;
const CHUNK_MAGIC: [u8; 2] = [0x1e, 0x0f];
const DAY_US: i64 = 86_400_000_000;

/// Counters of the GELF receiver.
#[derive(Debug, Default)]
pub struct GelfStats {
    pub datagrams: AtomicU64,
    pub messages: AtomicU64,
    pub malformed: AtomicU64,
    pub expired_chunks: AtomicU64,
}

/// The GELF receiver.
#[derive(Debug)]
pub struct GelfServer {
    recorder: Recorder,
    chunks: Mutex<HashMap<(IpAddr, [u8; 8]), Pending>>,
    stats: GelfStats,
}

#[derive(Debug)]
struct Pending {
    first_seen: Instant,
    parts: Vec<Option<Vec<u8>>>,
}

impl GelfServer {
    pub fn new(recorder: Recorder) -> GelfServer {
        GelfServer {
            recorder,
            chunks: Mutex::new(HashMap::new()),
            stats: GelfStats::default(),
        }
    }

    pub fn stats(&self) -> &GelfStats {
        &self.stats
    }

    /// Receives on `socket` until `shutdown`.
    pub async fn run(
        self,
        socket: UdpSocket,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<()> {
        let mut buffer = vec![0u8; 65_536];
        tokio::pin!(shutdown);
        loop {
            let (len, from) = tokio::select! {
                _ = &mut shutdown => break,
                received = socket.recv_from(&mut buffer) => received.map_err(|source| ZtpError::Io {
                    path: "gelf socket".into(),
                    source,
                })?,
            };
            self.handle(&buffer[..len], from, sonde_schema::row::now_us());
        }
        info!(
            messages = self.stats.messages.load(Ordering::Relaxed),
            malformed = self.stats.malformed.load(Ordering::Relaxed),
            "GELF receiver stopped"
        );
        Ok(())
    }

    /// One datagram from `from`, received at `now_us`: records the message it completes, if any.
    pub fn handle(&self, datagram: &[u8], from: SocketAddr, now_us: i64) {
        self.stats.datagrams.fetch_add(1, Ordering::Relaxed);
        let message = if datagram.starts_with(&CHUNK_MAGIC) {
            match self.chunk(datagram, from.ip()) {
                Ok(Some(whole)) => whole,
                Ok(None) => return,
                Err(()) => return self.malformed(),
            }
        } else {
            datagram.to_vec()
        };
        match decode(&message).and_then(|json| event_row(&json, from.ip(), now_us)) {
            Some((hostname, row)) => {
                self.stats.messages.fetch_add(1, Ordering::Relaxed);
                self.recorder.record(hostname, row);
            }
            None => self.malformed(),
        }
    }

    fn malformed(&self) {
        self.stats.malformed.fetch_add(1, Ordering::Relaxed);
    }

    /// Files a chunk; the whole message once its last chunk is in.
    fn chunk(&self, datagram: &[u8], from: IpAddr) -> std::result::Result<Option<Vec<u8>>, ()> {
        let header = datagram.get(..12).ok_or(())?;
        let id: [u8; 8] = header[2..10].try_into().map_err(|_| ())?;
        let (number, count) = (header[10], header[11]);
        if count == 0 || count > MAX_CHUNKS || number >= count {
            return Err(());
        }
        let mut chunks = self.chunks.lock();
        self.expire(&mut chunks);
        if chunks.len() >= MAX_PENDING && !chunks.contains_key(&(from, id)) {
            self.stats.expired_chunks.fetch_add(1, Ordering::Relaxed);
            return Ok(None);
        }
        let pending = chunks.entry((from, id)).or_insert_with(|| Pending {
            first_seen: Instant::now(),
            parts: vec![None; usize::from(count)],
        });
        if pending.parts.len() != usize::from(count) {
            chunks.remove(&(from, id));
            return Err(());
        }
        pending.parts[usize::from(number)] = Some(datagram[12..].to_vec());
        if pending.parts.iter().any(Option::is_none) {
            return Ok(None);
        }
        let whole = chunks
            .remove(&(from, id))
            .map(|p| p.parts.into_iter().flatten().flatten().collect());
        Ok(whole)
    }

    fn expire(&self, chunks: &mut HashMap<(IpAddr, [u8; 8]), Pending>) {
        let before = chunks.len();
        chunks.retain(|_, p| p.first_seen.elapsed() < CHUNK_TIMEOUT);
        let expired = (before - chunks.len()) as u64;
        self.stats
            .expired_chunks
            .fetch_add(expired, Ordering::Relaxed);
    }
}

/// The JSON object of a plain, gzip or zlib message.
fn decode(message: &[u8]) -> Option<Map<String, Value>> {
    let text = match message {
        [0x1f, 0x8b, ..] => inflate(flate2::read::GzDecoder::new(message))?,
        [0x78, second, ..] if (u16::from(0x78u8) << 8 | u16::from(*second)) % 31 == 0 => {
            inflate(flate2::read::ZlibDecoder::new(message))?
        }
        _ => message.to_vec(),
    };
    match serde_json::from_slice(&text).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn inflate(reader: impl Read) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    reader
        .take(MAX_MESSAGE as u64 + 1)
        .read_to_end(&mut text)
        .ok()?;
    (text.len() <= MAX_MESSAGE).then_some(text)
}

/// The `ztp_events` row of a GELF message and the device it is about (its `host`). A message
/// without `host` or `short_message` (both mandatory in GELF 1.1) is not one.
fn event_row(json: &Map<String, Value>, from: IpAddr, now_us: i64) -> Option<(String, Row)> {
    let text = |key: &str| json.get(key).and_then(value_text);
    let host = text("host")?;
    let short = text("short_message")?;
    let at = json
        .get("timestamp")
        .and_then(Value::as_f64)
        .map(|seconds| (seconds * 1e6) as i64)
        .filter(|t| t.abs_diff(now_us) <= DAY_US as u64)
        .unwrap_or(now_us);
    let level = json
        .get("level")
        .and_then(Value::as_u64)
        .and_then(|l| u32::try_from(l).ok())
        .unwrap_or(1);
    let mut row = Row::new(&EVENTS, at)
        .set("source", from.to_string())
        .set("log_event", text("_log_event").unwrap_or_default())
        .set("level", level)
        .set("short_message", short);
    let named = [
        ("full_message", "full_message"),
        ("_daemon", "daemon"),
        ("_log_module", "log_module"),
        ("_serial_number", "serial"),
        ("_element_name", "element_name"),
        ("_config_name", "config_name"),
        ("_config_sha1", "config_sha1"),
    ];
    for (key, column) in named {
        if let Some(value) = text(key) {
            row.put(column, value);
        }
    }
    let known = [
        "version",
        "host",
        "short_message",
        "timestamp",
        "level",
        "_log_event",
    ];
    let others: Map<String, Value> = json
        .iter()
        .filter(|(k, _)| !known.contains(&k.as_str()) && !named.iter().any(|(n, _)| n == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !others.is_empty() {
        row.put("fields", Value::Object(others).to_string());
    }
    Some((host, row))
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use sonde_schema::row::Value as Cell;

    use super::*;

    /// The seed's example message.
    const SEED: &str = r#"{
        "_config_name": "ctrld",
        "_config_sha1": "f1e06ef1e53becde6f8baf2b2fafe7dc9c36f6f0",
        "_daemon": "ctrld",
        "_element_name": "leaf01",
        "_log_event": "ZTP0011I",
        "_log_module": "ztp",
        "_serial_number": "591654XK1902037",
        "host": "leaf01",
        "level": 6,
        "short_message": "ztp ctrld config set",
        "timestamp": 1588382356.000511,
        "version": "1.1"
    }"#;
    const SEED_US: i64 = 1_588_382_356_000_511;

    fn server() -> (
        GelfServer,
        tokio::sync::mpsc::Receiver<crate::events::Event>,
    ) {
        let (recorder, events) = Recorder::discard();
        (GelfServer::new(recorder), events)
    }

    fn from() -> SocketAddr {
        "10.0.0.250:40000".parse().unwrap()
    }

    fn text(row: &Row, column: &str) -> String {
        match row.get(column) {
            Some(Cell::Str(s)) => s.clone(),
            other => panic!("{column}: {other:?}"),
        }
    }

    #[test]
    fn the_seeds_message_becomes_a_row_at_its_own_time() {
        let (gelf, mut events) = server();
        gelf.handle(SEED.as_bytes(), from(), SEED_US + 1_000_000);
        let event = events.try_recv().unwrap();
        assert_eq!(event.hostname, "leaf01");
        assert_eq!(event.row.time, SEED_US);
        assert_eq!(text(&event.row, "log_event"), "ZTP0011I");
        assert_eq!(text(&event.row, "serial"), "591654XK1902037");
        assert_eq!(
            text(&event.row, "config_sha1"),
            "f1e06ef1e53becde6f8baf2b2fafe7dc9c36f6f0"
        );
        assert_eq!(text(&event.row, "source"), "10.0.0.250");
        assert_eq!(event.row.get("level"), Some(&Cell::U32(6)));
    }

    #[test]
    fn a_device_clock_far_off_takes_the_receive_time() {
        let (gelf, mut events) = server();
        let now = SEED_US + 3 * DAY_US;
        gelf.handle(SEED.as_bytes(), from(), now);
        assert_eq!(events.try_recv().unwrap().row.time, now);
    }

    #[test]
    fn gzip_and_zlib_messages_are_read() {
        let (gelf, mut events) = server();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(SEED.as_bytes()).unwrap();
        gelf.handle(&gz.finish().unwrap(), from(), SEED_US);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(SEED.as_bytes()).unwrap();
        gelf.handle(&zlib.finish().unwrap(), from(), SEED_US);
        assert!(events.try_recv().is_ok() && events.try_recv().is_ok());
        assert_eq!(gelf.stats().malformed.load(Ordering::Relaxed), 0);
    }

    /// Chunk layout from the GELF spec: 1e 0f, 8-byte id, sequence number, sequence count, data.
    fn chunk(id: u8, number: u8, count: u8, data: &[u8]) -> Vec<u8> {
        let mut chunk = vec![0x1e, 0x0f, id, 0, 0, 0, 0, 0, 0, 7, number, count];
        chunk.extend_from_slice(data);
        chunk
    }

    #[test]
    fn chunks_in_any_order_make_one_message() {
        let (gelf, mut events) = server();
        let bytes = SEED.as_bytes();
        let (a, b, c) = (&bytes[..100], &bytes[100..200], &bytes[200..]);
        gelf.handle(&chunk(1, 2, 3, c), from(), SEED_US);
        gelf.handle(&chunk(1, 0, 3, a), from(), SEED_US);
        assert!(events.try_recv().is_err());
        gelf.handle(&chunk(1, 1, 3, b), from(), SEED_US);
        assert_eq!(
            text(&events.try_recv().unwrap().row, "log_event"),
            "ZTP0011I"
        );
    }

    #[test]
    fn what_is_not_gelf_is_counted_and_dropped() {
        let (gelf, mut events) = server();
        let bad: [&[u8]; 6] = [
            b"",
            b"not json",
            b"[1,2]",
            br#"{"host":"x"}"#,
            &[0x1e, 0x0f, 1, 2],
            &chunk(2, 5, 3, b"x"),
        ];
        for datagram in bad {
            gelf.handle(datagram, from(), SEED_US);
        }
        assert!(events.try_recv().is_err());
        assert_eq!(gelf.stats().malformed.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn random_bytes_never_panic() {
        let (gelf, _events) = server();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 64) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|i| (state >> (i % 8 * 8)) as u8).collect();
            if state.is_multiple_of(3) {
                bytes.splice(0..0, [0x1e, 0x0f]);
            }
            gelf.handle(&bytes, from(), SEED_US);
        }
    }
}
