//! The HTTP image, configuration and script server: the seed's nginx + njs setup as one
//! HTTP/1.1 server on tokio, whose every request is a row of `ztp_http`.
//!
//! Why its own server rather than axum + tower-http: images are hundreds of MiB and the target
//! is nginx's throughput with `sendfile on`; tower-http reads files in chunks through user
//! space. Here a file body goes out with `sendfile(2)` straight from the page cache to the
//! socket ([`serve`]), the head with `MSG_MORE` so it shares the first segment.
//!
//! The parts: [`request`] parses heads under limits, [`routes`] is the routing core (the
//! seed's URLs, ONIE's installer names, Cumulus' script, `/images/`), [`files`] resolves
//! names inside the served roots and answers with ETag, conditionals and Range, [`event`]
//! builds the access row, [`serve`] runs connections (keep-alive, pipelining, timeouts,
//! graceful shutdown). [`HttpServer::respond`] is the routing core without sockets, for the
//! simulator and tests.
//!
//! Serial binding (optional, per config.db entry): a serial whose entry has `mac` is served
//! only to the client whose address is held by a lease with that MAC. A client with no lease
//! at all is refused too (403, `HTTP_WRONG_DEVICE`): the binding is there because the header
//! is the device's word, and a lease is the only thing the server saw itself.

pub mod event;
pub mod files;
pub mod objects;
pub mod request;
pub mod response;
mod routes;
mod serve;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

use crate::config::Watched;
use crate::events::Recorder;
use crate::leases::LeaseLookup;
pub use objects::ImageObjects;
pub use request::Request;
pub use response::{Body, Response};

/// The server's limits and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Longest wait for the next request on an open connection.
    pub idle_timeout: Duration,
    /// Longest time from a request's first byte to the end of its head (slowloris).
    pub head_timeout: Duration,
    /// Longest a write may make no progress before the connection is dropped.
    pub write_timeout: Duration,
    /// Largest request head; a larger one is answered 431.
    pub head_limit: usize,
    /// Most header fields in a head; more is answered 431.
    pub max_headers: usize,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// At shutdown, how long answers in flight may take before they are cut.
    pub shutdown_grace: Duration,
    /// `SO_SNDBUF` of each connection (Linux doubles it); `None` leaves it to autotuning.
    pub send_buffer: Option<usize>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            idle_timeout: Duration::from_secs(60),
            head_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
            head_limit: 16 * 1024,
            max_headers: 64,
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(10),
            send_buffer: Some(512 * 1024),
        }
    }
}

/// The HTTP server. [`HttpServer::run`] serves a listener; [`HttpServer::respond`] answers one
/// request without a socket.
pub struct HttpServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("dir", self.shared.config.dir())
            .field("options", &self.shared.options)
            .finish()
    }
}

/// What every connection shares.
pub(crate) struct Shared {
    pub config: Watched,
    pub recorder: Recorder,
    pub leases: Arc<dyn LeaseLookup>,
    pub options: HttpOptions,
    /// Images in an object store, looked up after `images/`.
    pub objects: Option<Arc<ImageObjects>>,
    /// SHA-1 of configuration files by path, valid while (len, mtime) stay.
    pub sha1: Mutex<HashMap<PathBuf, (u64, SystemTime, String)>>,
    next_id: AtomicU64,
}

impl Shared {
    pub fn request_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

impl HttpServer {
    pub fn new(config: Watched, recorder: Recorder, leases: Arc<dyn LeaseLookup>) -> HttpServer {
        HttpServer {
            shared: Arc::new(Shared {
                config,
                recorder,
                leases,
                options: HttpOptions::default(),
                objects: None,
                sha1: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// `self` with other limits (before [`HttpServer::run`]).
    pub fn with_options(self, options: HttpOptions) -> HttpServer {
        self.rebuilt(options, self.shared.objects.clone())
    }

    /// `self` serving images from an object store too, after `images/` (before
    /// [`HttpServer::run`], which keeps its catalogue fresh).
    pub fn with_images(self, objects: ImageObjects) -> HttpServer {
        self.rebuilt(self.shared.options.clone(), Some(Arc::new(objects)))
    }

    /// The image store, when the server has one.
    pub fn objects(&self) -> Option<&Arc<ImageObjects>> {
        self.shared.objects.as_ref()
    }

    fn rebuilt(&self, options: HttpOptions, objects: Option<Arc<ImageObjects>>) -> HttpServer {
        let shared = &self.shared;
        HttpServer {
            shared: Arc::new(Shared {
                config: shared.config.clone(),
                recorder: shared.recorder.clone(),
                leases: Arc::clone(&shared.leases),
                options,
                objects,
                sha1: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// Serves connections until `shutdown` resolves; answers in flight then finish, for at
    /// most [`HttpOptions::shutdown_grace`].
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> crate::Result<()> {
        serve::run(self.shared, listener, shutdown).await
    }

    /// What the server answers `request` from `client` at `now_us` (µs since the epoch), with
    /// its access row recorded as a real request's is (bytes: the body's length; duration:
    /// the time spent routing).
    pub fn respond(&self, request: &Request, client: SocketAddr, now_us: i64) -> Response {
        let started = Instant::now();
        let (response, outcome) = self.shared.route(request, client);
        let sent = event::Sent {
            status: response.status,
            bytes: response.body.len(),
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        };
        self.shared.record(request, client, now_us, &outcome, sent);
        response
    }
}

impl Shared {
    /// Records the access row of one request.
    pub fn record(
        &self,
        request: &Request,
        client: SocketAddr,
        now_us: i64,
        outcome: &event::Outcome,
        sent: event::Sent,
    ) {
        let id = self.request_id();
        let (hostname, row) = event::row(
            request,
            client,
            now_us,
            id,
            outcome,
            sent,
            self.leases.as_ref(),
        );
        self.recorder.record(hostname, row);
    }
}
