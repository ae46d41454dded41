//! `sonde serve`: the engine with its Flight endpoint, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use sonde_engine::Engine;
use sonde_engine::flight::FlightServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

use crate::cli::ServeArgs;

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.store.engine_config()?;
    config.flush_rows = args.flush_rows.max(1);
    config.flush_interval = args.flush_interval;
    config.maintenance_interval = args.maintenance_interval;
    config.retention = args.retention;
    config.checkpoint_factor = args.checkpoint_factor;
    let engine = Engine::open(config)
        .await
        .context("cannot open the store")?;
    let listener = TcpListener::bind(&args.flight_addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.flight_addr))?;
    let address = listener.local_addr()?;
    info!(store = %engine.config().store, %address, auth = args.token.is_some(), "serving");
    // Tests and scripts read the bound address from this line.
    println!("sonde: Flight listening on {address}");

    let server = Server::start(engine, listener, args.token.clone());
    shutdown_signal().await;
    info!("shutting down: flushing the memtable");
    server.stop().await?;
    info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// A running server: the Flight endpoint and the engine's flushes and maintenance.
pub struct Server {
    engine: Engine,
    stop: watch::Sender<bool>,
    serving: JoinHandle<Result<(), tonic::transport::Error>>,
    background: JoinHandle<()>,
}

impl Server {
    pub fn start(engine: Engine, listener: TcpListener, token: Option<String>) -> Server {
        let (stop, stopped) = watch::channel(false);
        let wait = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let background = tokio::spawn({
            let engine = engine.clone();
            let stopped = wait(stopped.clone());
            async move { engine.run_background(stopped).await }
        });
        let flight = FlightServer::new(engine.clone(), token);
        let serving = tokio::spawn(flight.run(listener, wait(stopped)));
        Server {
            engine,
            stop,
            serving,
            background,
        }
    }

    /// Stops serving and flushes the memtable to Parquet.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.serving.await?.context("the Flight server failed")?;
        self.background.await?;
        self.engine
            .close()
            .await
            .context("the final flush failed; the WAL still holds every acknowledged row")
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return ctrl_c.await.unwrap_or_default(),
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or_default();
}
