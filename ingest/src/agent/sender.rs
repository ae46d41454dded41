//! One sender per server: streams the spool's batches in order over Arrow Flight DoPut, with the
//! agent's token, and moves that server's cursor as the server acknowledges durable writes.
//! While a server is unreachable its batches wait in the spool; on reconnect they go in order.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::utils::batches_to_flight_data;
use arrow_flight::{FlightData, FlightDescriptor};
use tokio::sync::{Notify, watch};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};
use tracing::{info, warn};

use super::spool::{Spool, Spooled};
use crate::error::{Error, Result};

/// Batches read from the spool and sent per round: each holds thousands of rows, decoded and
/// encoded at once, so a small round keeps the agent's memory small during a large resync.
const ROUND: usize = 8;
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Puts the token on every request.
type Authorize = Box<dyn FnMut(Request<()>) -> Result<Request<()>, Status> + Send>;
type Client = FlightServiceClient<InterceptedService<Channel, Authorize>>;

/// The spool, shared by the producer and the senders.
pub type SharedSpool = Arc<Mutex<Spool>>;

pub fn lock(spool: &SharedSpool) -> MutexGuard<'_, Spool> {
    spool
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Streams one server's backlog.
#[derive(Debug)]
pub struct Sender {
    pub server: String,
    pub token: String,
    /// Names this agent's stream: hostname and spool id.
    pub source: String,
    pub spool: SharedSpool,
    /// Woken when the producer spooled something.
    pub wake: Arc<Notify>,
}

impl Sender {
    /// Sends until `shutdown` turns true, reconnecting as needed.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut client = None;
        let mut retry = RETRY_MIN;
        let mut reachable = true;
        while !*shutdown.borrow() {
            let pending = match lock(&self.spool).pending(&self.server, ROUND) {
                Ok(pending) => pending,
                Err(e) => {
                    warn!(server = %self.server, error = %e, "cannot read the spool");
                    Vec::new()
                }
            };
            if pending.is_empty() {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = shutdown.changed() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            match self.send_round(&mut client, pending).await {
                Ok(()) => {
                    if !reachable {
                        info!(server = %self.server, "server reachable again: sending the spool");
                    }
                    reachable = true;
                    retry = RETRY_MIN;
                }
                Err(e) => {
                    if reachable {
                        warn!(server = %self.server, error = %e, "server unreachable: spooling until it answers");
                    }
                    reachable = false;
                    client = None;
                    tokio::select! {
                        _ = tokio::time::sleep(retry) => {}
                        _ = shutdown.changed() => {}
                    }
                    retry = (retry * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// Sends the batches, one DoPut per run of batches of the same table, acknowledging each.
    async fn send_round(&self, client: &mut Option<Client>, pending: Vec<Spooled>) -> Result<()> {
        if client.is_none() {
            *client = Some(self.connect().await?);
        }
        let Some(client) = client.as_mut() else {
            return Ok(());
        };
        let mut runs: Vec<Vec<Spooled>> = Vec::new();
        for spooled in pending {
            match runs.last_mut() {
                Some(run) if run[0].table.name == spooled.table.name => run.push(spooled),
                _ => runs.push(vec![spooled]),
            }
        }
        for run in runs {
            self.put_run(client, run).await?;
        }
        Ok(())
    }

    async fn put_run(&self, client: &mut Client, run: Vec<Spooled>) -> Result<()> {
        let table = run[0].table;
        let seqs: Vec<u64> = run.iter().map(|s| s.seq).collect();
        let batches = run.into_iter().map(|s| s.batch).collect();
        let mut data = batches_to_flight_data(&table.schema(), batches)?;
        number_batches(&mut data, &self.source, &seqs);
        if let Some(first) = data.first_mut() {
            first.flight_descriptor = Some(FlightDescriptor::new_path(vec![table.name.into()]));
        }
        let mut acks = client
            .do_put(futures::stream::iter(data))
            .await
            .map_err(|s| self.failure(s))?
            .into_inner();
        // One PutResult per batch, in the order sent.
        let mut unacknowledged = seqs.iter();
        while acks.message().await.map_err(|s| self.failure(s))?.is_some() {
            let Some(&seq) = unacknowledged.next() else {
                break;
            };
            lock(&self.spool).ack(&self.server, seq)?;
        }
        if unacknowledged.next().is_some() {
            return Err(self.failure(Status::unavailable(
                "the stream ended before every batch was acknowledged",
            )));
        }
        Ok(())
    }

    async fn connect(&self) -> Result<Client> {
        let endpoint = Endpoint::from_shared(self.server.clone())
            .map_err(|e| Error::Config(format!("bad server address {}: {e}", self.server)))?
            .connect_timeout(Duration::from_secs(3))
            .tcp_nodelay(true);
        let channel = endpoint.connect().await.map_err(|e| Error::Server {
            server: self.server.clone(),
            message: e.to_string(),
        })?;
        let bearer: MetadataValue<_> = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| Error::Config("the token must be printable ASCII".into()))?;
        let interceptor: Authorize = Box::new(move |mut request: Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            Ok(request)
        });
        Ok(FlightServiceClient::with_interceptor(channel, interceptor)
            .max_encoding_message_size(256 << 20))
    }

    fn failure(&self, status: Status) -> Error {
        Error::Server {
            server: self.server.clone(),
            message: format!("{}: {}", status.code(), status.message()),
        }
    }
}

/// Puts `{"source", "seq"}` on every batch message (all but the leading schema message), so the
/// server can tell a resent batch from a new one.
fn number_batches(data: &mut [FlightData], source: &str, seqs: &[u64]) {
    for (message, seq) in data.iter_mut().skip(1).zip(seqs) {
        message.app_metadata = serde_json::json!({"source": source, "seq": seq})
            .to_string()
            .into();
    }
}
