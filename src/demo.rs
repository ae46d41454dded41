//! `sonde demo`: an embedded server on a fresh store holding the seed's reference data centre —
//! two days of simulated history with its faults, kept running live — and the REPL with a tour.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use sonde_engine::{Engine, EngineConfig};
use sonde_server::{EngineCatalog, Listeners, Server, ServerConfig};
use sonde_sim::{Batches, Churn, Simulation};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

use crate::cli::DemoArgs;
use crate::query::Backend;
use crate::repl::{self, Tour};

const MINUTE: i64 = 60_000_000;

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
];

const AFTER_THE_TOUR: &str = "That was the tour. Try `check vlan` (leaf04's bond3 gained VLAN 30 \
three hours ago), `check sensors` (spine02's fan2), `leaf01 show ip routes changes between 7h and 5h`, \
`show sensors` (live temperatures), `json` after any statement, or `help`.";

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
    let server = Server::serve(
        engine.clone(),
        &config,
        Listeners::flight(listener),
        std::future::pending(),
    )?;
    let address = server.flight_addr();
    let (stop_live, live_stopped) = watch::channel(false);
    let live = tokio::spawn(keep_live(engine.clone(), now, live_stopped));

    println!(
        "Sonde demo: the reference data centre ({nodes} nodes: spine01-02, leaf01-04 in two MLAG pairs, \
         server01-04, exit01-02, edge01, internet), two days of history ({rows} rows) with faults, running live."
    );
    println!("Store: {}", dir.display());
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

/// Keeps the simulated fabric running from `from`: heartbeats, and temperatures that move.
async fn keep_live(engine: Engine, from: i64, mut stopped: watch::Receiver<bool>) {
    let mut sim = Simulation::reference(from);
    sim.set_churn(Churn {
        temperature: Some(MINUTE),
        ..Churn::default()
    });
    let mut batches = Batches::default();
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
        let Ok(tables) = batches.take() else { continue };
        for (table, batch) in tables {
            if let Err(error) = engine.append(table, &batch).await {
                warn!(%error, table, "the live simulation could not write");
            }
        }
    }
}
