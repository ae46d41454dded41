//! Sonde's composed server: the engine, its Arrow Flight service, the background flushes and
//! maintenance, and the listeners that feed the engine (INT over UDP, ZTP's DHCP and HTTP, the
//! notifier), started together by [`Server::start`] and stopped together.
//!
//! The server owns the only adapter between the store and the language ([`EngineCatalog`]), so
//! `sonde-engine` knows no NetQL and `netql` knows no storage. Every listener follows one shape: it
//! is handed its bound socket at start (so tests bind port 0 and read the address back), the
//! engine to append to, and a shutdown signal; [`Service`] is that shape for the listeners still
//! to come. `sonde serve`, `sonde demo` and the tests are thin callers of this crate.

mod catalog;
mod error;
pub mod flight;
mod int;
mod service;
mod ztp;

use std::future::Future;
use std::net::SocketAddr;

use sonde_engine::{Engine, EngineConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

pub use catalog::EngineCatalog;
pub use error::{Result, ServerError};
pub use flight::{FlightConfig, FlightServeError, FlightServer, NETQL_TICKET, TlsFiles, Tokens};
pub use int::{IntConfig, IntService};
pub use service::{Service, Shutdown};
pub use ztp::{EngineEvents, ImageStore, ZtpAddrs, ZtpConfig, ZtpService};

/// What the server is asked to be, beyond its sockets.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The store and its flush, maintenance and retention settings.
    pub engine: EngineConfig,
    /// The Flight endpoint's tokens and TLS identity; no token leaves Flight open.
    pub flight: FlightConfig,
}

impl ServerConfig {
    pub fn new(engine: EngineConfig) -> Self {
        ServerConfig {
            engine,
            flight: FlightConfig::default(),
        }
    }
}

/// The sockets the server serves, bound by the caller.
pub struct Listeners {
    /// Arrow Flight: DoPut for agents, DoGet with SQL or NetQL tickets, the admin actions.
    pub flight: TcpListener,
    /// Every other listener (INT receivers, ZTP's DHCP and HTTP servers, the notifier).
    pub services: Vec<Box<dyn Service>>,
}

impl Listeners {
    /// Only the Flight endpoint.
    pub fn flight(flight: TcpListener) -> Self {
        Listeners {
            flight,
            services: Vec::new(),
        }
    }

    /// Binds the Flight endpoint on `address` (`127.0.0.1:0` for any free port).
    pub async fn bind_flight(address: &str) -> Result<Self> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ServerError::Bind {
                address: address.to_string(),
                source,
            })?;
        Ok(Listeners::flight(listener))
    }

    pub fn with(mut self, service: Box<dyn Service>) -> Self {
        self.services.push(service);
        self
    }
}

/// A running server. Stops when the shutdown future given to [`Server::start`] resolves or
/// [`Server::stop`] is called, whichever comes first; either way the memtable is flushed.
pub struct Server {
    engine: Engine,
    flight_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<Result<()>>)>,
}

impl Server {
    /// Opens the store, then serves it on `listeners` until `shutdown` resolves.
    pub async fn start(
        config: ServerConfig,
        listeners: Listeners,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Server> {
        let engine = Engine::open(config.engine.clone())
            .await
            .map_err(ServerError::Open)?;
        Server::serve(engine, &config, listeners, shutdown)
    }

    /// Serves an engine already open (the demo writes its history first).
    pub fn serve(
        engine: Engine,
        config: &ServerConfig,
        listeners: Listeners,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Server> {
        let flight_addr = listeners
            .flight
            .local_addr()
            .map_err(ServerError::Address)?;
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![
            ("maintenance", spawn_background(&engine, &stopped)),
            (
                "flight",
                spawn_flight(&engine, config, listeners.flight, &stopped),
            ),
        ];
        for service in listeners.services {
            let name = service.name();
            let shutdown = Shutdown::new(stopped.clone());
            tasks.push((name, tokio::spawn(service.run(engine.clone(), shutdown))));
        }
        tasks.push(("current state", spawn_current_states(&engine, &stopped)));
        tokio::spawn(stop_on(shutdown, stop.clone()));
        info!(store = %engine.config().store, flight = %flight_addr, auth = config.flight.tokens.any(), tls = config.flight.tls.is_some(), "serving");
        Ok(Server {
            engine,
            flight_addr,
            stop,
            tasks,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The address the Flight endpoint listens on.
    pub fn flight_addr(&self) -> SocketAddr {
        self.flight_addr
    }

    /// Resolves once the shutdown signal has fired (or [`Server::stop`] was called elsewhere).
    pub async fn stopping(&self) {
        let mut stopped = self.stop.subscribe();
        let _ = stopped.wait_for(|stop| *stop).await;
    }

    /// Stops every listener and the maintenance, then flushes the memtable to Parquet.
    /// The first listener failure is returned after everything has stopped.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        let mut failure = None;
        for (name, task) in self.tasks {
            let outcome = task
                .await
                .unwrap_or_else(|e| Err(ServerError::Panicked(name, e.to_string())));
            if let Err(error) = outcome {
                warn!(listener = name, %error, "stopped with an error");
                failure.get_or_insert(error);
            }
        }
        self.engine.close().await.map_err(ServerError::FinalFlush)?;
        failure.map_or(Ok(()), Err)
    }
}

async fn stop_on(shutdown: impl Future<Output = ()>, stop: watch::Sender<bool>) {
    tokio::select! {
        _ = shutdown => { let _ = stop.send(true); }
        _ = stop.closed() => {}
    }
}

/// Builds every table's present in memory while the listeners already answer (a query that comes
/// first scans, as one about the past does); a shutdown stops it.
fn spawn_current_states(
    engine: &Engine,
    stopped: &watch::Receiver<bool>,
) -> JoinHandle<Result<()>> {
    let engine = engine.clone();
    let shutdown = Shutdown::new(stopped.clone());
    tokio::spawn(async move {
        let start = std::time::Instant::now();
        tokio::select! {
            loaded = engine.load_current_states() => match loaded {
                Ok(tables) => info!(tables = tables.len(), elapsed_ms = start.elapsed().as_millis() as u64, "current state in memory"),
                Err(error) => warn!(%error, "current state not loaded; questions about the present scan"),
            },
            () = shutdown.wait() => {}
        }
        Ok(())
    })
}

fn spawn_background(engine: &Engine, stopped: &watch::Receiver<bool>) -> JoinHandle<Result<()>> {
    let engine = engine.clone();
    let shutdown = Shutdown::new(stopped.clone());
    tokio::spawn(async move {
        engine.run_background(shutdown.wait()).await;
        Ok(())
    })
}

fn spawn_flight(
    engine: &Engine,
    config: &ServerConfig,
    listener: TcpListener,
    stopped: &watch::Receiver<bool>,
) -> JoinHandle<Result<()>> {
    let flight = FlightServer::new(engine.clone(), config.flight.clone());
    let shutdown = Shutdown::new(stopped.clone());
    tokio::spawn(async move {
        flight
            .run(listener, shutdown.wait())
            .await
            .map_err(ServerError::Flight)
    })
}
