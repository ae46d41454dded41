//! The shape every listener of the server takes: started with its bound socket, the engine to
//! append to and a [`Shutdown`] signal; it returns once the signal fires and its work is handed
//! over (INT receivers flush their builders, DHCP answers what it has read).

use futures::future::BoxFuture;
use sonde_engine::Engine;
use tokio::sync::watch;

use crate::error::Result;

/// A listener the server runs beside Flight: an INT receiver, ZTP's DHCP or HTTP server, the
/// notifier. It owns its socket, bound before the server starts.
pub trait Service: Send {
    /// A short name for logs and errors (`int`, `dhcp`, `ztp-http`).
    fn name(&self) -> &'static str;
    /// Serves until `shutdown` fires.
    fn run(self: Box<Self>, engine: Engine, shutdown: Shutdown) -> BoxFuture<'static, Result<()>>;
}

/// Fires once, when the server stops. Cheap to clone: every task holds its own.
#[derive(Debug, Clone)]
pub struct Shutdown {
    stopped: watch::Receiver<bool>,
}

impl Shutdown {
    pub(crate) fn new(stopped: watch::Receiver<bool>) -> Self {
        Shutdown { stopped }
    }

    /// Whether the server has been asked to stop.
    pub fn is_set(&self) -> bool {
        *self.stopped.borrow()
    }

    /// Resolves when the server is asked to stop (at once if it already was).
    pub async fn wait(mut self) {
        let _ = self.stopped.wait_for(|stop| *stop).await;
    }
}
