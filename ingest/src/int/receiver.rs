//! The INT receiver: one thread per socket, each draining its socket with batched receives
//! (recvmmsg, GRO segments and kernel receive timestamps, through quinn-udp) into its own
//! [`Collector`], and handing full batches to a bounded queue. When the queue is full the batch
//! is dropped and counted (`queue_full` in `int_errors`): a burst the store cannot absorb costs
//! reports, never unbounded memory, and never stalls the socket.
//!
//! Several sockets may share one address (`SO_REUSEPORT`), so the kernel spreads exporters
//! over several threads.

use std::io::{self, IoSliceMut};
use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow_array::RecordBatch;
use quinn_udp::{RecvMeta, UdpSocketState};
use socket2::{Domain, Protocol, Socket, Type};
use sonde_schema::TableDef;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use super::collector::{Collector, CollectorConfig};

/// The capped receive buffer is said once per process, not once per socket.
static WARNED_ABOUT_BUFFER: AtomicBool = AtomicBool::new(false);

/// Buffers per batched receive: quinn-udp's recvmmsg batch.
const RECV_BUFFERS: usize = quinn_udp::BATCH_SIZE;
/// Room for the largest GRO train the kernel builds (64 segments of a full datagram).
const RECV_BUFFER_BYTES: usize = 64 * 1024;

/// How receivers batch and queue what they decode.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// Hand a batch over once it holds this many reports.
    pub batch_reports: usize,
    /// Hand over whatever there is at least this often (and write loss and error rows).
    pub max_wait: Duration,
    /// Kernel receive buffer to ask for per socket, bytes.
    pub socket_buffer: usize,
    pub collector: CollectorConfig,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            batch_reports: 16_384,
            max_wait: Duration::from_millis(500),
            socket_buffer: 32 << 20,
            collector: CollectorConfig::default(),
        }
    }
}

/// What one receive thread hands over: every INT table with rows, and how many reports.
#[derive(Debug)]
pub struct IntBatch {
    pub tables: Vec<(&'static TableDef, RecordBatch)>,
    pub reports: usize,
}

/// Counters shared by every thread of a receiver, readable while it runs.
#[derive(Debug, Default)]
pub struct ReceiverStats {
    pub datagrams: AtomicU64,
    pub reports: AtomicU64,
    pub decode_errors: AtomicU64,
    /// Reports lost to a full queue.
    pub dropped_reports: AtomicU64,
}

impl ReceiverStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// The bound sockets of one receiver.
#[derive(Debug)]
pub struct IntSockets {
    sockets: Vec<StdUdpSocket>,
}

impl IntSockets {
    /// Binds `threads` sockets to each address (port 0 picks one free port per address, shared
    /// by its sockets).
    pub fn bind(addresses: &[SocketAddr], threads: usize, buffer: usize) -> io::Result<Self> {
        let mut sockets = Vec::new();
        for &address in addresses {
            let first = bind_one(address, buffer)?;
            let bound = first.local_addr()?;
            sockets.push(first);
            for _ in 1..threads.max(1) {
                sockets.push(bind_one(bound, buffer)?);
            }
        }
        Ok(IntSockets { sockets })
    }

    /// The addresses bound, one per address asked for.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        let mut addresses: Vec<SocketAddr> = self
            .sockets
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect();
        addresses.dedup();
        addresses
    }

    /// Starts one receive thread per socket, sending batches to `sink` until `stop` is set;
    /// each thread hands over what it holds before it returns.
    pub fn spawn(
        self,
        config: ReceiverConfig,
        sink: mpsc::Sender<IntBatch>,
        stop: watch::Receiver<bool>,
        stats: Arc<ReceiverStats>,
    ) -> io::Result<Vec<JoinHandle<()>>> {
        let mut threads = Vec::new();
        for (index, socket) in self.sockets.into_iter().enumerate() {
            let mut config = config.clone();
            if let Ok(address) = socket.local_addr() {
                config.collector.collector = address.to_string();
            }
            let thread = ReceiveThread {
                config,
                sink: sink.clone(),
                stop: stop.clone(),
                stats: Arc::clone(&stats),
            };
            let handle = std::thread::Builder::new()
                .name(format!("int-recv-{index}"))
                .spawn(move || thread.run(socket))?;
            threads.push(handle);
        }
        Ok(threads)
    }
}

fn bind_one(address: SocketAddr, buffer: usize) -> io::Result<StdUdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    socket.set_reuse_port(true)?;
    if address.is_ipv6() {
        // `[::]` takes IPv4 exporters too.
        let _ = socket.set_only_v6(false);
    }
    if let Err(error) = socket.set_recv_buffer_size(buffer) {
        debug!(%error, buffer, "could not size the INT receive buffer");
    }
    // Linux reports twice what it grants, for its bookkeeping.
    let granted = socket.recv_buffer_size().unwrap_or(0) / 2;
    if granted < buffer && !WARNED_ABOUT_BUFFER.swap(true, Ordering::Relaxed) {
        warn!(
            asked = buffer,
            granted,
            "the kernel caps the INT receive buffer (net.core.rmem_max); bursts may be dropped: raise it with sysctl -w net.core.rmem_max={buffer}"
        );
    }
    socket.bind(&address.into())?;
    Ok(socket.into())
}

struct ReceiveThread {
    config: ReceiverConfig,
    sink: mpsc::Sender<IntBatch>,
    stop: watch::Receiver<bool>,
    stats: Arc<ReceiverStats>,
}

impl ReceiveThread {
    fn run(self, socket: StdUdpSocket) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                warn!(%error, "the INT receive thread could not start");
                return;
            }
        };
        runtime.block_on(self.receive(socket));
    }

    async fn receive(self, socket: StdUdpSocket) {
        let address = socket.local_addr().ok();
        let state = match UdpSocketState::new((&socket).into()) {
            Ok(state) => state,
            Err(error) => {
                warn!(%error, ?address, "cannot set up the INT socket");
                return;
            }
        };
        let socket = match UdpSocket::from_std(socket) {
            Ok(socket) => socket,
            Err(error) => {
                warn!(%error, ?address, "cannot register the INT socket");
                return;
            }
        };
        let mut drain = Drain::new(Collector::new(self.config.collector.clone()));
        let mut stop = self.stop.clone();
        let mut deadline = Instant::now() + self.config.max_wait;
        loop {
            let wait = tokio::time::sleep_until(deadline.into());
            tokio::select! {
                ready = socket.readable() => {
                    if let Err(error) = ready {
                        warn!(%error, ?address, "the INT socket failed");
                        break;
                    }
                    drain.socket(&socket, &state);
                    if drain.collector.pending_reports() >= self.config.batch_reports {
                        self.hand_over(&mut drain);
                        deadline = Instant::now() + self.config.max_wait;
                    }
                }
                _ = wait => {
                    self.hand_over(&mut drain);
                    deadline = Instant::now() + self.config.max_wait;
                }
                _ = stop.wait_for(|stop| *stop) => break,
            }
        }
        drain.socket(&socket, &state);
        self.hand_over_last(&mut drain).await;
    }

    /// Sends the collector's batch on if the queue has room, else drops and counts it.
    fn hand_over(&self, drain: &mut Drain) {
        let Some(batch) = drain.take() else { return };
        self.count(drain);
        if let Err(
            mpsc::error::TrySendError::Full(batch) | mpsc::error::TrySendError::Closed(batch),
        ) = self.sink.try_send(batch)
        {
            self.stats
                .dropped_reports
                .fetch_add(batch.reports as u64, Ordering::Relaxed);
            drain.collector.count_dropped(
                "queue_full",
                drain.last_datagrams,
                "the store could not keep up; the batch was dropped",
            );
        }
    }

    /// At shutdown the last batch waits for room rather than being dropped.
    async fn hand_over_last(&self, drain: &mut Drain) {
        if let Some(batch) = drain.take() {
            self.count(drain);
            let _ = self.sink.send(batch).await;
        }
    }

    fn count(&self, drain: &Drain) {
        let stats = drain.collector.stats();
        self.stats
            .datagrams
            .store(stats.datagrams, Ordering::Relaxed);
        self.stats.reports.store(stats.reports, Ordering::Relaxed);
        self.stats
            .decode_errors
            .store(stats.errors, Ordering::Relaxed);
    }
}

/// The receive buffers and the collector of one thread.
struct Drain {
    collector: Collector,
    /// `RECV_BUFFERS` receive buffers of `RECV_BUFFER_BYTES`, end to end.
    buffers: Vec<u8>,
    meta: [RecvMeta; RECV_BUFFERS],
    /// Datagrams decoded into the batch being built, and into the one last handed over.
    datagrams: u64,
    last_datagrams: u64,
}

impl Drain {
    fn new(collector: Collector) -> Self {
        Drain {
            collector,
            buffers: vec![0; RECV_BUFFERS * RECV_BUFFER_BYTES],
            meta: [RecvMeta::default(); RECV_BUFFERS],
            datagrams: 0,
            last_datagrams: 0,
        }
    }

    /// Receives until the socket has nothing more; every datagram goes to the collector.
    fn socket(&mut self, socket: &UdpSocket, state: &UdpSocketState) {
        loop {
            let mut chunks = self.buffers.chunks_exact_mut(RECV_BUFFER_BYTES);
            let mut slices: [IoSliceMut<'_>; RECV_BUFFERS] =
                std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()));
            let received = socket.try_io(Interest::READABLE, || {
                state.recv(socket.into(), &mut slices, &mut self.meta)
            });
            match received {
                Ok(count) => self.decode(count),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    debug!(%error, "INT receive error");
                    return;
                }
            }
        }
    }

    fn decode(&mut self, count: usize) {
        let fallback = now_us();
        let buffers = self.buffers.chunks_exact(RECV_BUFFER_BYTES);
        for (meta, buffer) in self.meta[..count].iter().zip(buffers) {
            let received_us = meta.timestamp.map_or(fallback, |t| t.as_micros() as i64);
            let stride = meta.stride.max(1);
            for datagram in buffer[..meta.len].chunks(stride) {
                self.datagrams += 1;
                self.collector
                    .datagram(meta.addr.ip().to_canonical(), received_us, datagram);
            }
        }
    }

    fn take(&mut self) -> Option<IntBatch> {
        let reports = self.collector.pending_reports();
        let tables = match self.collector.take(now_us()) {
            Ok(tables) => tables,
            Err(error) => {
                warn!(%error, "INT batch could not be built; its reports are lost");
                return None;
            }
        };
        self.last_datagrams = std::mem::take(&mut self.datagrams);
        (!tables.is_empty()).then_some(IntBatch { tables, reports })
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
