//! `sonde serve`: the server library on the configured store and sockets, until Ctrl-C or SIGTERM.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use sonde_server::{IntService, Listeners, Server, ServerConfig, ZtpAddrs, ZtpService};
use tracing::info;

use crate::cli::{Global, QueryArgs, ServeArgs};

pub async fn run(args: ServeArgs, global: QueryArgs) -> anyhow::Result<ExitCode> {
    global.refuse("serve", &[Global::Server, Global::TlsCa, Global::Json])?;
    let mut engine = if args.flight.read_only {
        refuse_ingest_with_read_only(&args)?;
        global.store.reader_config()?
    } else {
        global.store.engine_config()?
    };
    engine.flush_rows = args.flush_rows.max(1);
    engine.flush_interval = args.flush_interval;
    engine.maintenance_interval = args.maintenance_interval;
    engine.retention = args.retention;
    engine.checkpoint_factor = args.checkpoint_factor;
    let config = ServerConfig {
        engine,
        flight: args.flight.config(global.token.clone()),
    };
    let mut listeners = Listeners::bind_flight(&args.flight_addr).await?;
    let mut int_addrs = Vec::new();
    if let Some(int) = args.int.config()?.filter(|_| !args.flight.read_only) {
        let service = IntService::bind(int)?;
        int_addrs = service.local_addrs();
        listeners = listeners.with(Box::new(service));
    }
    let mut ztp_addrs = ZtpAddrs::default();
    if let Some(ztp) = args.ztp.config(global.store.s3_options())? {
        let service = ZtpService::bind(ztp).await?;
        ztp_addrs = service.local_addrs();
        listeners = listeners.with(Box::new(service));
    }
    let server = Server::start(config, listeners, shutdown_signal()).await?;
    // Scripts read the bound addresses from these lines, Flight's first. A reader that closes
    // the pipe after the line it wanted must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "sonde: Flight listening on {}", server.flight_addr());
    for address in int_addrs {
        let _ = writeln!(out, "sonde: INT listening on {address}");
    }
    let ztp = [
        ("DHCP", ztp_addrs.dhcp),
        ("ZTP HTTP", ztp_addrs.http),
        ("GELF", ztp_addrs.gelf),
    ];
    for (name, address) in ztp {
        if let Some(address) = address {
            let _ = writeln!(out, "sonde: {name} listening on {address}");
        }
    }
    let _ = out.flush();
    server.stopping().await;
    info!("shutting down: flushing the memtable");
    server
        .stop()
        .await
        .context("the server did not stop cleanly")?;
    info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// A read-only server takes no rows: ZTP, which records every access, cannot run on one.
fn refuse_ingest_with_read_only(args: &ServeArgs) -> anyhow::Result<()> {
    if args.ztp.ztp.is_some() {
        anyhow::bail!(
            "--read-only serves queries only: ZTP records every access and needs a writable store"
        );
    }
    Ok(())
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
