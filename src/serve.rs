//! `sonde serve`: the engine with its Flight endpoint, until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use sonde_engine::Engine;
use sonde_engine::flight::FlightServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
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

    let (stop, stopped) = watch::channel(false);
    let wait = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let background = {
        let engine = engine.clone();
        tokio::spawn({
            let stopped = wait(stopped.clone());
            async move { engine.run_background(stopped).await }
        })
    };
    let server = FlightServer::new(engine.clone(), args.token.clone());
    let serving = tokio::spawn(server.run(listener, wait(stopped)));

    shutdown_signal().await;
    info!("shutting down: flushing the memtable");
    let _ = stop.send(true);
    serving.await?.context("the Flight server failed")?;
    background.await?;
    engine
        .close()
        .await
        .context("the final flush failed; the WAL still holds every acknowledged row")?;
    info!("stopped");
    Ok(ExitCode::SUCCESS)
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
