//! `sonde demo`: an embedded server on a fresh store holding the seed's reference data centre —
//! two days of simulated history with its faults, kept running live — and the REPL with a tour.
//!
//! ZTP: the simulator's four new leaves (leaf05–leaf08, `sonde_sim::ztp::Fleet::reference`)
//! booted a day ago. The demo writes their ZTP directory under `<data dir>/ztp`, replays their
//! DHCP, HTTP and GELF traffic into the store at its simulated times through the ZTP server's
//! own cores (`DhcpServer::handle`, `HttpServer::respond`, `GelfServer::handle`), then serves
//! that directory live on loopback (DHCP, HTTP and GELF on free ports). The replay's lease
//! changes are stamped with the time of the exchange that made them, so `show ztp leases
//! around 20h` is what the server held then.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sonde_engine::{Engine, EngineConfig};
use sonde_schema::row::Row;
use sonde_server::{
    EngineCatalog, EngineEvents, IntConfig, IntService, Listeners, Server, ServerConfig, ZtpAddrs,
    ZtpConfig, ZtpService,
};
use sonde_sim::ztp::{self as sim_ztp, Fleet, HttpReply, HttpRequest, Pending, ZtpTransport};
use sonde_sim::{Batches, Churn, Node, Simulation, Sink};
use sonde_ztp::ZtpDir;
use sonde_ztp::config::Watched;
use sonde_ztp::dhcp::{DhcpOptions, DhcpServer};
use sonde_ztp::events::{EventStore, spawn_writer};
use sonde_ztp::gelf::GelfServer;
use sonde_ztp::http::{Body, HttpServer, Request};
use sonde_ztp::leases::LeaseLog;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

use crate::cli::{DemoArgs, Global, QueryArgs, StoreArgs};
use crate::query::Backend;
use crate::repl::{self, Tour};

const MINUTE: i64 = 60_000_000;
/// The demo's INT receiver listens on loopback only, on a free port.
const DEMO_INT_ADDR: &str = "127.0.0.1:0";
/// So do its ZTP listeners (DHCP, HTTP, GELF).
const DEMO_ZTP_ADDR: &str = "127.0.0.1:0";

const TOUR: &[(&str, &str)] = &[
    (
        "check bgp",
        "Every BGP session now. exit02's agent stopped two hours ago: its sessions are Rotten.",
    ),
    (
        "spine01 check bgp around 10h",
        "The same check on spine01, ten hours ago: leaf03's swp51 had failed 10h5m ago, and spine01's \
         hold timer expired.",
    ),
    (
        "show bgp",
        "Every session now, with its neighbour, AS numbers and received prefixes.",
    ),
    (
        "show changes between 11h and 9h",
        "What changed between eleven and nine hours ago: the link, both sessions down, and back.",
    ),
    (
        "check mtu",
        "leaf04's swp2 was set to MTU 9000 five hours ago; server04's side is at 9152.",
    ),
    (
        "show agents",
        "The agents' heartbeats: every 30 s, and exit02's stopped two hours ago.",
    ),
    (
        "check int around 12h",
        "The switches' INT telemetry twelve hours ago: spine01's swp3 queues ran deep for an hour, \
         over the 300-cell and 2048 ns profile.",
    ),
    (
        "show int drops around 10h30m",
        "leaf02 dropping a flow's packets, as its drop reports name the reason (ACL deny).",
    ),
    (
        "show ztp devices between 1d and now",
        "Four new leaves booted through ZTP a day ago: leaf05 and leaf08 were provisioned (leaf08 \
         by ONIE's installer names), leaf06 found no startup config, leaf07 got an address and \
         asked for nothing more.",
    ),
    (
        "check ztp between 1d and now",
        "The same day judged: leaf07 never fetched an image or configuration after its address, \
         and leaf06's startup config was not provided (404, ZTP0022W).",
    ),
    (
        "trace 10.244.40.193 from 10.244.6.6",
        "Every path from a pod on server02 to one on server03 now: eight ECMP paths, MTU 9152, \
         as the seed draws them.",
    ),
    (
        "trace 10.244.40.193 from 10.244.6.6 around 10h",
        "The same trace ten hours ago, with leaf03's swp51 down: spine01 reached server03 only \
         through leaf04, six paths left.",
    ),
];

const AFTER_THE_TOUR: &str = "That was the tour. Try `check vlan` (leaf04's bond3 gained VLAN 30 \
three hours ago), `check sensors` (spine02's fan2), `leaf01 show ip routes changes between 7h and 5h`, \
`show sensors` (live temperatures), `show int hops` (live INT paths), `show ztp leases` (leaf07's lease, \
never renewed, ends a day after its boot), `show ztp events between 1d and now` (CTRLD's GELF business \
events), `json` after any statement, or `help`.";

pub async fn run(args: DemoArgs, global: QueryArgs) -> anyhow::Result<ExitCode> {
    global.refuse(
        "demo",
        &[Global::Server, Global::Token, Global::TlsCa, Global::Json],
    )?;
    let StoreArgs { data_dir, .. } = &global.store;
    let demo_dir = data_dir
        .clone()
        .or_else(|| std::env::var_os("SONDE_DEMO_DATA_DIR").map(PathBuf::from));
    let store_given = global.store.store.is_some() || global.store.wal_dir.is_some();
    anyhow::ensure!(
        !store_given,
        "`demo` keeps its store in a local directory: give --data-dir DIR, not --store or --wal-dir"
    );
    let (dir, _temporary) = match &demo_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temporary = tempfile::Builder::new().prefix("sonde-demo-").tempdir()?;
            (temporary.path().to_path_buf(), Some(temporary))
        }
    };
    crate::simulate::refuse_used_store(
        &dir,
        "the demo writes its history into a new store (give a new --data-dir, or none for a temporary one)",
    )?;
    let config = ServerConfig::new(EngineConfig::local(&dir));
    let engine = Engine::open(config.engine.clone())
        .await
        .context("cannot open the demo store")?;
    let now = chrono::Utc::now().timestamp_micros();
    let sim = Simulation::reference(now);
    let nodes = sim.topology().nodes.len();
    let counts = crate::simulate::write(&engine, sim, now, 6 * 60 * MINUTE, |_, _| {}).await?;
    let rows: u64 = counts.values().sum();
    let fleet = Fleet::reference(now);
    let ztp_dir = dir.join("ztp");
    sim_ztp::dir::write(&fleet, &ztp_dir)
        .with_context(|| format!("cannot write the ZTP directory {}", ztp_dir.display()))?;
    replay_ztp(&engine, &fleet, &ztp_dir, now).await?;

    let listener = bind(&args.flight_addr).await?;
    let int = IntService::bind(IntConfig::new(vec![DEMO_INT_ADDR.parse()?]))?;
    let int_address = int.local_addrs()[0];
    let ztp = ZtpService::bind(live_ztp(&fleet, ztp_dir.clone())?)
        .await
        .context("cannot serve the demo's ZTP directory")?;
    let ztp_addrs = ztp.local_addrs();
    let server = Server::serve(
        engine.clone(),
        &config,
        Listeners::flight(listener)
            .with(Box::new(int))
            .with(Box::new(ztp)),
        std::future::pending(),
    )?;
    let address = server.flight_addr();
    let (stop_live, live_stopped) = watch::channel(false);
    let live = tokio::spawn(keep_live(engine.clone(), now, int_address, live_stopped));

    println!(
        "Sonde demo: the reference data centre ({nodes} nodes: spine01-02, leaf01-04 in two MLAG pairs, \
         server01-04, exit01-02, edge01, internet), two days of history ({rows} rows) with faults, running live."
    );
    println!("Store: {}", dir.display());
    println!(
        "INT: the switches' telemetry reports arrive on UDP {int_address} (send your own there too)"
    );
    print_ztp(&ztp_dir, ztp_addrs);
    println!(
        "Flight: {address}  (pyarrow.flight.connect(\"grpc://{address}\"), ticket \"netql:check bgp\" or SQL)"
    );
    println!(
        "Press Enter for the tour's next step, or type any NetQL statement; `help` lists them; Ctrl-D leaves."
    );
    let result = repl::session(
        Backend::Local(EngineCatalog::new(engine)),
        Tour::new(TOUR.to_vec(), AFTER_THE_TOUR),
    )
    .await;
    let _ = stop_live.send(true);
    live.await?;
    server.stop().await?;
    result
}

/// The requested address, or any free port on loopback when it is taken.
async fn bind(address: &str) -> anyhow::Result<TcpListener> {
    match TcpListener::bind(address).await {
        Ok(listener) => Ok(listener),
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            warn!(%address, "address in use; the demo's Flight endpoint takes a free port");
            Ok(TcpListener::bind("127.0.0.1:0").await?)
        }
        Err(error) => Err(error).with_context(|| format!("cannot listen on {address}")),
    }
}

/// Keeps the simulated fabric running from `from`: heartbeats, temperatures that move, and the
/// switches' INT reports, sent over UDP to the demo's own receiver as switches would send them.
async fn keep_live(engine: Engine, from: i64, int: SocketAddr, mut stopped: watch::Receiver<bool>) {
    let mut sim = Simulation::reference(from);
    sim.set_churn(Churn {
        temperature: Some(MINUTE),
        ..Churn::default()
    });
    let mut batches = match Live::new(int) {
        Ok(live) => live,
        Err(error) => {
            warn!(%error, "the live simulation cannot send INT reports");
            return;
        }
    };
    let mut at = from;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
        let now = chrono::Utc::now().timestamp_micros();
        sim.run(at, now, &mut batches);
        at = now;
        let Ok(tables) = batches.rows.take() else {
            continue;
        };
        for (table, batch) in tables {
            if let Err(error) = engine.append(table, &batch).await {
                warn!(%error, table, "the live simulation could not write");
            }
        }
    }
}

/// The live simulation's sink: agent rows gathered for the store, INT datagrams sent at once.
struct Live {
    rows: Batches,
    socket: UdpSocket,
    int: SocketAddr,
}

impl Live {
    fn new(int: SocketAddr) -> std::io::Result<Self> {
        Ok(Live {
            rows: Batches::default(),
            socket: UdpSocket::bind("127.0.0.1:0")?,
            int,
        })
    }
}

impl Sink for Live {
    fn agent_row(&mut self, node: &Node, row: Row) {
        self.rows.agent_row(node, row);
    }

    fn int_datagram(&mut self, _exporter: &Node, _address: IpAddr, _at: i64, datagram: &[u8]) {
        // UDP: a report lost here is what the loss accounting is for.
        let _ = self.socket.send_to(datagram, self.int);
    }
}

/// The live ZTP listeners: the demo's directory on loopback, free ports, the fleet's server
/// identifier (so leases keep the key the replay gave them).
fn live_ztp(fleet: &Fleet, dir: PathBuf) -> anyhow::Result<ZtpConfig> {
    let any: SocketAddr = DEMO_ZTP_ADDR.parse()?;
    Ok(ZtpConfig {
        dir,
        dhcp_addr: Some(any),
        dhcp_interface: None,
        server_id: Some(fleet.server),
        http_addr: Some(any),
        gelf_addr: Some(any),
        image_store: None,
    })
}

fn print_ztp(dir: &Path, addrs: ZtpAddrs) {
    let shown = |a: Option<SocketAddr>| a.map_or_else(|| "off".to_string(), |a| a.to_string());
    println!(
        "ZTP: leaf05-08 booted a day ago from {} (dhcpd.conf, config.db, configs/, images/); \
         serving it live: DHCP udp {}, HTTP http://{}, GELF udp {}",
        dir.display(),
        shown(addrs.dhcp),
        shown(addrs.http),
        shown(addrs.gelf),
    );
}

/// Replays the fleet's boots up to `now` through the ZTP server's cores over the engine; every
/// row is appended before this returns.
async fn replay_ztp(engine: &Engine, fleet: &Fleet, dir: &Path, now: i64) -> anyhow::Result<()> {
    let watched = Watched::open(ZtpDir::new(dir)).context("the demo's ZTP directory")?;
    let store: Arc<dyn EventStore> = Arc::new(EngineEvents(engine.clone()));
    let (recorder, writer) = spawn_writer(Arc::clone(&store));
    let leases = LeaseLog::new(store, fleet.server.to_string());
    let options = DhcpOptions {
        server_id: Some(fleet.server),
        ..DhcpOptions::default()
    };
    let dhcp = DhcpServer::start(watched.clone(), Arc::new(leases), recorder.clone(), options)
        .await
        .context("the demo's DHCP server")?;
    let cores = Cores {
        http: HttpServer::new(watched, recorder.clone(), dhcp.lookup()),
        gelf: GelfServer::new(recorder),
        dhcp,
    };
    let replay = sim_ztp::replay(fleet, &cores, now).await;
    drop(cores);
    writer.await.context("the ZTP event writer")?;
    if replay.dhcp_answered == 0 {
        warn!(
            ?replay,
            "the demo's DHCP server answered none of the ZTP boots"
        );
    }
    Ok(())
}

/// The ZTP server's cores as the simulated switches' transport, at their simulated times.
struct Cores {
    dhcp: DhcpServer,
    http: HttpServer,
    gelf: GelfServer,
}

impl ZtpTransport for Cores {
    fn dhcp<'a>(
        &'a self,
        at: i64,
        from: SocketAddr,
        message: Vec<u8>,
    ) -> Pending<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let reply = self.dhcp.handle(&message, from, at).await;
            reply.map(|(bytes, _to)| bytes)
        })
    }

    fn http<'a>(
        &'a self,
        at: i64,
        from: SocketAddr,
        request: HttpRequest,
    ) -> Pending<'a, HttpReply> {
        let request = Request {
            method: request.method,
            path: request.path,
            headers: request.headers,
        };
        let response = self.http.respond(&request, from, at);
        let location = response
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("location"))
            .map(|(_, value)| value.clone());
        let reply = HttpReply {
            status: response.status,
            location,
            body: body_bytes(&response.body),
        };
        Box::pin(std::future::ready(reply))
    }

    fn gelf<'a>(&'a self, at: i64, from: SocketAddr, datagram: Vec<u8>) -> Pending<'a, ()> {
        self.gelf.handle(&datagram, from, at);
        Box::pin(std::future::ready(()))
    }
}

/// A response body's bytes (the demo's files are a few hundred bytes); unreadable is empty.
fn body_bytes(body: &Body) -> Vec<u8> {
    match body {
        Body::Empty => Vec::new(),
        Body::Bytes(bytes) => bytes.to_vec(),
        // The demo's images are files under images/.
        Body::Object { .. } => Vec::new(),
        Body::File { path, offset, len } => {
            let start = usize::try_from(*offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(usize::try_from(*len).unwrap_or(usize::MAX));
            std::fs::read(path)
                .ok()
                .and_then(|bytes| bytes.get(start..end.min(bytes.len())).map(<[u8]>::to_vec))
                .unwrap_or_default()
        }
    }
}
