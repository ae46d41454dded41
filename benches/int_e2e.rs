//! INT end to end over loopback UDP, side by side in one run: a bare receive loop that only
//! drains its socket with recvmmsg (quinn-udp, GRO, as Sonde's receiver does: the machine's
//! limit), then Sonde's server receiving, decoding and storing the same datagrams.
//!
//! One sender thread sends single-hop v0.5 flow reports, in two ways: one datagram a send, as a
//! switch sends them (here the sender is the bottleneck), and GSO trains of 64 datagrams a
//! send, which outrun any receiver. Rates are reports over the span of their kernel receive
//! timestamps; loss is sent minus received (bare) or sent minus stored (Sonde). When Sonde
//! loses reports, the sender is paced down until it stores every report: that rate is the
//! figure to compare with the bare drain's.
//!
//! `cargo bench --bench int_e2e [-- REPORTS]` (default 2,000,000 per run).

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use quinn_udp::{RecvMeta, Transmit, UdpSocketState};
use sonde_engine::{Engine, EngineConfig};
use sonde_ingest::int::ReceiverStats;
use sonde_ingest::testing::int::v0_5;
use sonde_server::{IntConfig, IntService, Listeners, Server, ServerConfig};

const SEGMENTS: usize = 64;
/// Receive buffer both receivers ask for; the kernel grants at most `net.core.rmem_max`.
const SOCKET_BUFFER: usize = 64 << 20;
const RMEM_MAX: &str = "/proc/sys/net/core/rmem_max";

/// `net.core.rmem_max` raised for the run (as a collector host is tuned), put back after.
struct RmemMax {
    before: Option<usize>,
    now: usize,
}

impl RmemMax {
    fn raise(to: usize) -> RmemMax {
        let current = std::fs::read_to_string(RMEM_MAX)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        if current >= to || std::fs::write(RMEM_MAX, to.to_string()).is_err() {
            return RmemMax {
                before: None,
                now: current,
            };
        }
        RmemMax {
            before: Some(current),
            now: to,
        }
    }

    fn describe(&self) -> String {
        match self.before {
            Some(before) => format!("raised from {before} to {} for the run", self.now),
            None => format!("{}", self.now),
        }
    }
}

impl Drop for RmemMax {
    fn drop(&mut self) {
        if let Some(before) = self.before {
            let _ = std::fs::write(RMEM_MAX, before.to_string());
        }
    }
}

/// What a sender did.
struct Sent {
    reports: u64,
    seconds: f64,
}

/// How the sender sends.
#[derive(Debug, Clone, Copy)]
struct Sending {
    /// Datagrams per send: 1, or a GSO train.
    train: usize,
    /// At most this many reports a second, when given.
    rate: Option<f64>,
}

/// Sends `reports` numbered reports to `to`.
fn send(to: SocketAddr, reports: u64, sending: Sending) -> Sent {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("binds");
    socket.set_nonblocking(false).expect("blocking");
    let state = UdpSocketState::new((&socket).into()).expect("quinn-udp state");
    socket.set_nonblocking(false).expect("blocking again");
    let segments = state.max_gso_segments().clamp(1, sending.train);
    let one = v0_5(0, 1);
    let size = one.len();
    let mut train = one.repeat(segments);
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < reports {
        let count = segments.min((reports - sent) as usize);
        for i in 0..count {
            let sequence = (sent + i as u64) as u32;
            train[i * size + 4..i * size + 8].copy_from_slice(&sequence.to_be_bytes());
        }
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents: &train[..count * size],
            segment_size: (count > 1).then_some(size),
            src_ip: None,
        };
        if state.try_send((&socket).into(), &transmit).is_err() {
            std::thread::yield_now();
            continue;
        }
        sent += count as u64;
        if let Some(rate) = sending.rate {
            let due = Duration::from_secs_f64(sent as f64 / rate);
            if let Some(ahead) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(ahead);
            }
        }
    }
    Sent {
        reports: sent,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// What a receiver got: datagrams, and the span of their kernel timestamps.
struct Received {
    reports: u64,
    first_us: i64,
    last_us: i64,
}

impl Received {
    fn rate(&self) -> f64 {
        let span = (self.last_us - self.first_us).max(1) as f64 / 1e6;
        self.reports as f64 / span
    }
}

/// The bare loop: recvmmsg into 32 buffers, count the GRO segments, nothing else.
fn drain(socket: UdpSocket, until_idle: Duration) -> Received {
    let state = UdpSocketState::new((&socket).into()).expect("quinn-udp state");
    socket
        .set_read_timeout(Some(Duration::from_millis(10)))
        .expect("timeout");
    socket.set_nonblocking(false).expect("blocking");
    let mut storage = vec![0u8; quinn_udp::BATCH_SIZE * 65_536];
    let mut meta = [RecvMeta::default(); quinn_udp::BATCH_SIZE];
    let mut received = Received {
        reports: 0,
        first_us: i64::MAX,
        last_us: 0,
    };
    let mut idle_since = Instant::now();
    loop {
        let mut chunks = storage.chunks_exact_mut(65_536);
        let mut slices: [IoSliceMut<'_>; quinn_udp::BATCH_SIZE] =
            std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()));
        match state.recv((&socket).into(), &mut slices, &mut meta) {
            Ok(count) => {
                for m in &meta[..count] {
                    received.reports += m.len.div_ceil(m.stride.max(1)) as u64;
                    let at = m.timestamp.map_or(0, |t| t.as_micros() as i64);
                    received.first_us = received.first_us.min(at);
                    received.last_us = received.last_us.max(at);
                }
                idle_since = Instant::now();
            }
            Err(_) if idle_since.elapsed() > until_idle && received.reports > 0 => break,
            Err(_) if idle_since.elapsed() > Duration::from_secs(10) => break,
            Err(_) => {}
        }
    }
    received
}

fn udp_receive_errors() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut lines = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

fn bare(reports: u64, sending: Sending) -> (Sent, Received) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("binds");
    let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(SOCKET_BUFFER);
    let address = socket.local_addr().expect("address");
    let receiver = std::thread::spawn(move || drain(socket, Duration::from_millis(500)));
    std::thread::sleep(Duration::from_millis(50));
    let sent = send(address, reports, sending);
    (sent, receiver.join().expect("drains"))
}

/// Sonde's server on a fresh store: returns what was sent and what the store holds.
async fn sonde(reports: u64, sending: Sending) -> (Sent, Received, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ServerConfig::new(EngineConfig::local(dir.path()));
    let mut int = IntConfig::new(vec!["127.0.0.1:0".parse().expect("address")]);
    int.receiver.socket_buffer = SOCKET_BUFFER;
    let service = IntService::bind(int).expect("binds");
    let address = service.local_addrs()[0];
    let stats = service.stats();
    let listeners = Listeners::bind_flight("127.0.0.1:0")
        .await
        .expect("binds")
        .with(Box::new(service));
    let server = Server::start(config, listeners, std::future::pending())
        .await
        .expect("starts");
    let sent = tokio::task::spawn_blocking(move || send(address, reports, sending))
        .await
        .expect("sends");
    wait_until_quiet(&stats).await;
    let dropped = ReceiverStats::get(&stats.dropped_reports);
    server.stop().await.expect("stops");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("reopens");
    let span = engine
        .sql("SELECT count(*), min(timestamp), max(timestamp) FROM int_reports")
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    let batch = &span[0];
    let column = |i: usize| -> i64 {
        arrow::util::display::array_value_to_string(batch.column(i), 0)
            .ok()
            .and_then(|text| {
                if i == 0 {
                    text.parse().ok()
                } else {
                    sonde_engine::parse_instant(&text).ok()
                }
            })
            .unwrap_or(0)
    };
    let received = Received {
        reports: column(0) as u64,
        first_us: column(1),
        last_us: column(2),
    };
    (sent, received, dropped)
}

async fn wait_until_quiet(stats: &Arc<ReceiverStats>) {
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let now = stats.datagrams.load(Ordering::Relaxed);
        if now == last {
            return;
        }
        last = now;
    }
}

fn line(name: &str, sent: &Sent, received: &Received, kernel_drops: u64) {
    let lost = sent.reports.saturating_sub(received.reports);
    println!(
        "  {name:<34} sender {:>5.2} M/s   received {:>5.2} M/s   {} of {} ({lost} lost, {kernel_drops} dropped by the kernel)",
        sent.reports as f64 / sent.seconds / 1e6,
        received.rate() / 1e6,
        received.reports,
        sent.reports,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let reports: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let raised = RmemMax::raise(SOCKET_BUFFER);
    println!(
        "INT end to end over loopback, single-hop v0.5 reports, {reports} per run, {} MiB socket buffers (net.core.rmem_max {}):",
        SOCKET_BUFFER >> 20,
        raised.describe()
    );
    for (title, train) in [
        ("one datagram a send, as switches send", 1),
        ("GSO trains of 64 datagrams a send", SEGMENTS),
    ] {
        println!("{title}:");
        compare(reports, train).await;
    }
}

/// The bare drain and Sonde at the sender's full rate, then Sonde paced down until it stores
/// every report.
async fn compare(reports: u64, train: usize) {
    let full = Sending { train, rate: None };
    let before = udp_receive_errors();
    let (sent, limit) = tokio::task::spawn_blocking(move || bare(reports, full))
        .await
        .expect("bare run");
    line(
        "bare recvmmsg drain, full rate",
        &sent,
        &limit,
        udp_receive_errors() - before,
    );
    let bare_rate = limit.rate();

    let before = udp_receive_errors();
    let (sent, stored, queue) = sonde(reports, full).await;
    line(
        "Sonde, stored, full rate",
        &sent,
        &stored,
        udp_receive_errors() - before,
    );
    if queue > 0 {
        println!("    ({queue} reports dropped at a full queue)");
    }
    let mut best = (stored.reports == sent.reports).then(|| stored.rate());
    let mut pace = stored.rate().min(bare_rate);
    while best.is_none() && pace > bare_rate * 0.01 {
        pace *= 0.8;
        let paced = Sending {
            train,
            rate: Some(pace),
        };
        let before = udp_receive_errors();
        let (sent, stored, _) = sonde(reports, paced).await;
        let name = format!("Sonde, stored, paced at {:.2} M/s", pace / 1e6);
        line(&name, &sent, &stored, udp_receive_errors() - before);
        if stored.reports == sent.reports {
            best = Some(stored.rate());
        }
    }
    match best {
        Some(rate) => println!(
            "  => Sonde stores {:.2} M reports/s with no loss: {:.2} of the bare drain's {:.2} M/s",
            rate / 1e6,
            rate / bare_rate,
            bare_rate / 1e6
        ),
        None => println!("  => Sonde lost reports at every rate tried"),
    }
}
