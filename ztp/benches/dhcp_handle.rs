//! The DHCP server's own cost per lease, without sockets: DISCOVER then REQUEST for many
//! clients through `DhcpServer::handle`, with the lease log over an in-memory store (so the WAL's
//! fsync is left out; `benches/ztp_dhcp.rs` measures the whole server beside Kea with perfdhcp).
//! Prints leases/s on one task and on 64 concurrent tasks, medians of five runs.
//!
//! `cargo bench -p sonde-ztp --bench dhcp_handle`

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use dhcproto::Encodable;
use dhcproto::v4::{DhcpOption, Encoder, Flags, Message, MessageType};
use sonde_ztp::ZtpDir;
use sonde_ztp::config::{Watched, ZtpConfig, dhcpd};
use sonde_ztp::dhcp::{DhcpOptions, DhcpServer};
use sonde_ztp::events::{MemoryStore, spawn_writer};
use sonde_ztp::leases::LeaseLog;

const CONFIG: &str = "authoritative;\ndefault-lease-time 600;\nmax-lease-time 7200;\n\
subnet 10.0.0.0 netmask 255.255.0.0 {\n  range 10.0.1.0 10.0.250.255;\n  option routers 10.0.0.1;\n  \
option domain-name-servers 10.0.0.2;\n  option domain-name \"local\";\n  \
option default-url \"http://10.0.0.1/ztp/image\";\n}\n";
const CLIENTS: u32 = 20_000;
const RUNS: usize = 5;

fn message(
    kind: MessageType,
    client: u32,
    requested: Option<Ipv4Addr>,
    server: Ipv4Addr,
) -> Vec<u8> {
    let b = client.to_be_bytes();
    let mac = [0x02, 0x00, b[0], b[1], b[2], b[3]];
    let mut m = Message::new_with_id(
        client,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::new(10, 0, 0, 3),
        &mac,
    );
    m.set_flags(Flags::default().set_broadcast());
    m.opts_mut().insert(DhcpOption::MessageType(kind));
    if let Some(ip) = requested {
        m.opts_mut().insert(DhcpOption::RequestedIpAddress(ip));
        m.opts_mut().insert(DhcpOption::ServerIdentifier(server));
    }
    let mut out = Vec::new();
    m.encode(&mut Encoder::new(&mut out)).expect("encodes");
    out
}

fn yiaddr(reply: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(reply[16], reply[17], reply[18], reply[19])
}

async fn server() -> DhcpServer {
    let config = ZtpConfig {
        dhcp: dhcpd::parse(Path::new("bench.conf"), CONFIG).expect("parses"),
        ..ZtpConfig::default()
    };
    let watched = Watched::fixed(ZtpDir::new("/nonexistent"), config);
    let store = Arc::new(MemoryStore::default());
    let (recorder, _writer) = spawn_writer(store.clone());
    let leases = LeaseLog::new(store, "10.0.0.1".into());
    let options = DhcpOptions {
        server_id: Some(Ipv4Addr::new(10, 0, 0, 1)),
        ..DhcpOptions::default()
    };
    DhcpServer::start(watched, Arc::new(leases), recorder, options)
        .await
        .expect("starts")
}

async fn dora(server: &DhcpServer, client: u32) {
    let from: SocketAddr = "10.0.0.3:67".parse().expect("address");
    let id = server.server_id();
    let now = sonde_schema::row::now_us();
    let offer = server
        .handle(&message(MessageType::Discover, client, None, id), from, now)
        .await;
    let Some((offer, _)) = offer else { return };
    let request = message(MessageType::Request, client, Some(yiaddr(&offer)), id);
    let _ = server.handle(&request, from, now).await;
}

async fn run(tasks: u32) -> f64 {
    let server = Arc::new(server().await);
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let server = Arc::clone(&server);
        handles.push(tokio::spawn(async move {
            let mut client = task;
            while client < CLIENTS {
                dora(&server, client + 1).await;
                client += tasks;
            }
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    let leases = server.leases().len();
    assert!(leases >= CLIENTS as usize * 9 / 10, "only {leases} leases");
    f64::from(CLIENTS) / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for tasks in [1, 64] {
        let rates: Vec<f64> = (0..RUNS).map(|_| runtime.block_on(run(tasks))).collect();
        println!(
            "dhcp_handle: {tasks:>2} task(s): {:>9.0} leases/s (median of {RUNS}, {CLIENTS} clients, DISCOVER+REQUEST)",
            median(rates)
        );
    }
}
