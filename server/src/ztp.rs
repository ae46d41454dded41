//! The ZTP listeners: the DHCP server, the HTTP image/configuration server and the GELF receiver
//! of `sonde-ztp`, over one ZTP directory, with the engine as their event store. Lease changes are
//! appended and awaited (durable before the answer); access events go through the recorder's
//! bounded queue. The directory's files are re-read when they change.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use futures::future::BoxFuture;
use sonde_engine::{Engine, S3Options, Store, StoreLocation};
use sonde_schema::TableDef;
use sonde_ztp::config::Watched;
use sonde_ztp::dhcp::{DhcpOptions, DhcpServer};
use sonde_ztp::events::{EventStore, spawn_writer};
use sonde_ztp::gelf::GelfServer;
use sonde_ztp::http::objects::DEFAULT_REFRESH;
use sonde_ztp::http::{HttpServer, ImageObjects};
use sonde_ztp::leases::LeaseLog;
use sonde_ztp::{ZtpDir, ZtpError};
use tokio::net::{TcpListener, UdpSocket};
use tracing::info;

use crate::error::{Result, ServerError};
use crate::service::{Service, Shutdown};

/// Where and how the server provisions switches.
#[derive(Debug, Clone)]
pub struct ZtpConfig {
    /// The ZTP directory: dhcpd.conf, config.db, configs/, images/.
    pub dir: PathBuf,
    /// DHCP's UDP address (`0.0.0.0:67`); none turns DHCP off.
    pub dhcp_addr: Option<SocketAddr>,
    /// The interface DHCP answers on (SO_BINDTODEVICE), so limited broadcasts leave by it.
    pub dhcp_interface: Option<String>,
    /// The DHCP server identifier (option 54); by default the server works it out.
    pub server_id: Option<Ipv4Addr>,
    /// The HTTP server's address (`0.0.0.0:80`); none turns it off.
    pub http_addr: Option<SocketAddr>,
    /// The GELF/UDP address devices send their business events to; none turns it off.
    pub gelf_addr: Option<SocketAddr>,
    /// Installers in an object store, served after `images/`.
    pub image_store: Option<ImageStore>,
}

/// Where the object store of installers is.
#[derive(Debug, Clone)]
pub struct ImageStore {
    /// `s3://bucket/prefix`, or a directory.
    pub location: StoreLocation,
    pub s3: S3Options,
}

impl ImageStore {
    /// Opens and lists the store (an unreachable store stops the start).
    async fn open(&self) -> Result<ImageObjects> {
        if let StoreLocation::Local(dir) = &self.location
            && !dir.is_dir()
        {
            return Err(ServerError::Ztp(ZtpError::Store(format!(
                "the image store {} is not a directory",
                dir.display()
            ))));
        }
        let store = Store::open(&self.location, &self.s3).map_err(|e| {
            ServerError::Ztp(ZtpError::Store(format!(
                "the image store {}: {e}",
                self.location
            )))
        })?;
        ImageObjects::open(
            store.object_store(),
            self.location.to_string(),
            DEFAULT_REFRESH,
        )
        .await
        .map_err(ServerError::Ztp)
    }
}

/// The addresses the ZTP listeners are bound to.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZtpAddrs {
    pub dhcp: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub gelf: Option<SocketAddr>,
}

/// The ZTP listeners as one server service.
pub struct ZtpService {
    config: ZtpConfig,
    watched: Watched,
    dhcp: Option<UdpSocket>,
    http: Option<TcpListener>,
    gelf: Option<UdpSocket>,
    images: Option<ImageObjects>,
}

impl ZtpService {
    /// Reads the ZTP directory (a file that does not parse stops the start, naming file, line and
    /// token) and binds every socket, so a taken port is an error now.
    pub async fn bind(config: ZtpConfig) -> Result<ZtpService> {
        let watched = Watched::open(ZtpDir::new(&config.dir)).map_err(ServerError::Ztp)?;
        let dhcp = match config.dhcp_addr {
            Some(address) => Some(
                sonde_ztp::dhcp::bind(address, config.dhcp_interface.as_deref())
                    .map_err(ServerError::Ztp)?,
            ),
            None => None,
        };
        let http = match config.http_addr {
            Some(address) => {
                Some(
                    TcpListener::bind(address)
                        .await
                        .map_err(|source| ServerError::Bind {
                            address: address.to_string(),
                            source,
                        })?,
                )
            }
            None => None,
        };
        let gelf = match config.gelf_addr {
            Some(address) => {
                Some(
                    UdpSocket::bind(address)
                        .await
                        .map_err(|source| ServerError::Bind {
                            address: address.to_string(),
                            source,
                        })?,
                )
            }
            None => None,
        };
        let images = match &config.image_store {
            Some(store) => Some(store.open().await?),
            None => None,
        };
        Ok(ZtpService {
            config,
            watched,
            dhcp,
            http,
            gelf,
            images,
        })
    }

    pub fn local_addrs(&self) -> ZtpAddrs {
        ZtpAddrs {
            dhcp: self.dhcp.as_ref().and_then(|s| s.local_addr().ok()),
            http: self.http.as_ref().and_then(|s| s.local_addr().ok()),
            gelf: self.gelf.as_ref().and_then(|s| s.local_addr().ok()),
        }
    }
}

impl Service for ZtpService {
    fn name(&self) -> &'static str {
        "ztp"
    }

    fn run(self: Box<Self>, engine: Engine, shutdown: Shutdown) -> BoxFuture<'static, Result<()>> {
        Box::pin(self.serve(engine, shutdown))
    }
}

impl ZtpService {
    async fn serve(self, engine: Engine, shutdown: Shutdown) -> Result<()> {
        let store: Arc<dyn EventStore> = Arc::new(EngineEvents(engine));
        let (recorder, writer) = spawn_writer(Arc::clone(&store));
        let server_id = self.config.server_id;
        let leases = LeaseLog::new(
            Arc::clone(&store),
            server_id.map_or_else(|| "ztp".to_string(), |id| id.to_string()),
        );
        let options = DhcpOptions {
            server_id,
            interface: self.config.dhcp_interface.clone(),
            ..DhcpOptions::default()
        };
        let dhcp = DhcpServer::start(
            self.watched.clone(),
            Arc::new(leases),
            recorder.clone(),
            options,
        )
        .await
        .map_err(ServerError::Ztp)?;
        let mut http = HttpServer::new(self.watched.clone(), recorder.clone(), dhcp.lookup());
        if let Some(images) = self.images {
            info!(
                store = images.label(),
                objects = images.names().len(),
                "ZTP images from an object store"
            );
            http = http.with_images(images);
        }
        let gelf = GelfServer::new(recorder.clone());
        drop(recorder);
        info!(dir = %self.config.dir.display(), "serving ZTP");
        let reload = tokio::spawn(self.watched.clone().watch(shutdown.clone().wait()));
        let dhcp = spawn_optional(self.dhcp, shutdown.clone(), |s, stop| dhcp.run(s, stop));
        let http = spawn_optional(self.http, shutdown.clone(), |l, stop| http.run(l, stop));
        let gelf = spawn_optional(self.gelf, shutdown.clone(), |s, stop| gelf.run(s, stop));
        let mut failure = None;
        for (name, task) in [("dhcp", dhcp), ("ztp-http", http), ("gelf", gelf)] {
            let Some(task) = task else { continue };
            let outcome = task
                .await
                .unwrap_or_else(|e| Err(ZtpError::Store(format!("{name} panicked: {e}"))));
            if let Err(error) = outcome {
                failure.get_or_insert(ServerError::Listener(name, error.to_string()));
            }
        }
        let _ = reload.await;
        // Every recorder is gone with its server: the writer appends what is left and ends.
        let _ = writer.await;
        failure.map_or(Ok(()), Err)
    }
}

fn spawn_optional<S, F>(
    socket: Option<S>,
    shutdown: Shutdown,
    run: impl FnOnce(S, BoxFuture<'static, ()>) -> F,
) -> Option<tokio::task::JoinHandle<sonde_ztp::Result<()>>>
where
    F: Future<Output = sonde_ztp::Result<()>> + Send + 'static,
{
    let socket = socket?;
    Some(tokio::spawn(run(socket, Box::pin(shutdown.wait()))))
}

/// The engine as ZTP's event store.
pub struct EngineEvents(pub Engine);

impl EventStore for EngineEvents {
    fn append(
        &self,
        table: &'static TableDef,
        batch: RecordBatch,
    ) -> BoxFuture<'static, std::result::Result<usize, String>> {
        let submitted = self.0.submit(table.name, &batch);
        Box::pin(async move {
            submitted
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn current(
        &self,
        table: &'static TableDef,
    ) -> BoxFuture<'static, std::result::Result<Vec<RecordBatch>, String>> {
        let engine = self.0.clone();
        Box::pin(async move {
            let plan = engine
                .state_at(table.name, sonde_schema::row::now_us())
                .map_err(|e| e.to_string())?;
            engine.collect(plan).await.map_err(|e| e.to_string())
        })
    }
}
