//! The INT listener: the receive threads of `sonde-ingest` on their bound sockets, and the task
//! that appends their batches to the engine. At most [`IN_FLIGHT`] batches wait on the WAL at
//! once and at most the queue's capacity wait for their turn; beyond that the receive threads
//! drop and count, so a store that falls behind costs reports, never memory.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use sonde_engine::Engine;
use sonde_ingest::int::{IntBatch, IntSockets, ReceiverConfig, ReceiverStats};
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use crate::error::{Result, ServerError};
use crate::service::{Service, Shutdown};

/// Batches appended but not yet durable, at most.
const IN_FLIGHT: usize = 8;

/// Where and how the server receives INT reports.
#[derive(Debug, Clone)]
pub struct IntConfig {
    pub addresses: Vec<SocketAddr>,
    /// Receive threads (and sockets) per address.
    pub threads: usize,
    /// Batches the receive threads may queue ahead of the store.
    pub queue_batches: usize,
    pub receiver: ReceiverConfig,
}

impl IntConfig {
    pub fn new(addresses: Vec<SocketAddr>) -> Self {
        IntConfig {
            addresses,
            threads: 1,
            queue_batches: 64,
            receiver: ReceiverConfig::default(),
        }
    }
}

/// The INT receiver as a server listener.
pub struct IntService {
    sockets: IntSockets,
    config: IntConfig,
    stats: Arc<ReceiverStats>,
}

impl IntService {
    /// Binds every address of `config` (before the server starts, so a taken port is an error
    /// at start, not a silent gap in the telemetry).
    pub fn bind(config: IntConfig) -> Result<Self> {
        let sockets = IntSockets::bind(
            &config.addresses,
            config.threads,
            config.receiver.socket_buffer,
        )
        .map_err(|source| ServerError::Bind {
            address: join(&config.addresses),
            source,
        })?;
        Ok(IntService {
            sockets,
            config,
            stats: Arc::new(ReceiverStats::default()),
        })
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets.local_addrs()
    }

    /// The receive counters, live while the service runs.
    pub fn stats(&self) -> Arc<ReceiverStats> {
        Arc::clone(&self.stats)
    }
}

fn join(addresses: &[SocketAddr]) -> String {
    addresses
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Service for IntService {
    fn name(&self) -> &'static str {
        "int"
    }

    fn run(self: Box<Self>, engine: Engine, shutdown: Shutdown) -> BoxFuture<'static, Result<()>> {
        Box::pin(self.serve(engine, shutdown))
    }
}

impl IntService {
    async fn serve(self, engine: Engine, shutdown: Shutdown) -> Result<()> {
        let addresses = self.sockets.local_addrs();
        let (sink, mut batches) = mpsc::channel(self.config.queue_batches.max(1));
        let (stop, stopped) = watch::channel(false);
        let threads = self
            .sockets
            .spawn(
                self.config.receiver.clone(),
                sink,
                stopped,
                Arc::clone(&self.stats),
            )
            .map_err(|e| ServerError::Listener("int", e.to_string()))?;
        info!(addresses = %join(&addresses), threads = threads.len(), "receiving INT reports");
        let mut appends = Appends::default();
        let mut stopping = false;
        loop {
            tokio::select! {
                batch = batches.recv() => match batch {
                    Some(batch) => appends.submit(&engine, batch).await,
                    // Every receive thread has handed over its last batch and gone.
                    None => break,
                },
                Some(()) = appends.next(), if !appends.is_empty() => {}
                _ = shutdown.clone().wait(), if !stopping => {
                    stopping = true;
                    let _ = stop.send(true);
                }
            }
        }
        appends.finish().await;
        for thread in threads {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                return Err(ServerError::Panicked("int", "a receive thread".to_string()));
            }
        }
        info!(
            datagrams = ReceiverStats::get(&self.stats.datagrams),
            reports = ReceiverStats::get(&self.stats.reports),
            decode_errors = ReceiverStats::get(&self.stats.decode_errors),
            dropped_reports = ReceiverStats::get(&self.stats.dropped_reports),
            "INT receiver stopped"
        );
        Ok(())
    }
}

/// Appends waiting to become durable.
#[derive(Default)]
struct Appends {
    pending: FuturesUnordered<BoxFuture<'static, ()>>,
}

impl Appends {
    fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    async fn next(&mut self) -> Option<()> {
        self.pending.next().await
    }

    /// Queues every table of the batch, first waiting while [`IN_FLIGHT`] appends are pending
    /// or the engine asks writers to slow down.
    async fn submit(&mut self, engine: &Engine, batch: IntBatch) {
        while self.pending.len() >= IN_FLIGHT {
            self.pending.next().await;
        }
        engine.backpressure().await;
        for (table, rows) in batch.tables {
            match engine.submit(table.name, &rows) {
                Ok(durable) => self.pending.push(Box::pin(async move {
                    if let Err(error) = durable.await {
                        warn!(%error, table = table.name, "INT rows were not stored");
                    }
                })),
                Err(error) => warn!(%error, table = table.name, "INT rows were refused"),
            }
        }
    }

    async fn finish(&mut self) {
        while self.pending.next().await.is_some() {}
    }
}
