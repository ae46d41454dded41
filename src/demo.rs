//! `sonde demo`: an embedded server on a fresh store holding the seed's reference data centre —
//! two days of simulated history with its faults, kept running live — and the REPL with a tour.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use sonde_engine::{Engine, EngineConfig};
use sonde_schema::row::Row;
use sonde_server::{EngineCatalog, IntConfig, IntService, Listeners, Server, ServerConfig};
use sonde_sim::{Batches, Churn, Node, Simulation, Sink};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

use crate::cli::DemoArgs;
use crate::query::Backend;
use crate::repl::{self, Tour};

const MINUTE: i64 = 60_000_000;
/// The demo's INT receiver listens on loopback only, on a free port.
const DEMO_INT_ADDR: &str = "127.0.0.1:0";

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
];

const AFTER_THE_TOUR: &str = "That was the tour. Try `check vlan` (leaf04's bond3 gained VLAN 30 \
three hours ago), `check sensors` (spine02's fan2), `leaf01 show ip routes changes between 7h and 5h`, \
`show sensors` (live temperatures), `show int hops` (live INT paths), `json` after any statement, or `help`.";

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let (dir, _temporary) = match &args.data_dir {
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

    let listener = bind(&args.flight_addr).await?;
    let int = IntService::bind(IntConfig::new(vec![DEMO_INT_ADDR.parse()?]))?;
    let int_address = int.local_addrs()[0];
    let server = Server::serve(
        engine.clone(),
        &config,
        Listeners::flight(listener).with(Box::new(int)),
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
