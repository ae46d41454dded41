//! The Arrow Flight server: DoPut appends batches to the table a path descriptor names and
//! answers one `PutResult` per batch once it is durable (a batch may carry
//! `{"source": name, "seq": n}` as its app_metadata: one already stored is acknowledged, not
//! stored twice); DoGet runs a SQL ticket and streams the
//! result; ListFlights, GetFlightInfo and GetSchema describe the tables; the `flush` and
//! `maintain` actions run those jobs now. With a token configured, every call must carry
//! `authorization: Bearer <token>`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::decode::{DecodedPayload, FlightDataDecoder};
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_descriptor::DescriptorType;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::{BoxStream, FuturesOrdered};
use futures::{StreamExt, TryStreamExt};
use sonde_schema::TableDef;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status, Streaming};

use sonde_engine::{Engine, EngineError, Origin};

use crate::catalog::EngineCatalog;

/// Largest Flight message accepted: one record batch of a DoPut.
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// Batches of one DoPut stream waiting for their fsync at once.
const PUTS_IN_FLIGHT: usize = 32;

/// Serves one engine over Arrow Flight.
#[derive(Debug, Clone)]
pub struct FlightServer {
    engine: Engine,
    catalog: EngineCatalog,
    token: Option<String>,
}

impl FlightServer {
    pub fn new(engine: Engine, token: Option<String>) -> Self {
        FlightServer {
            catalog: EngineCatalog::new(engine.clone()),
            engine,
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), tonic::transport::Error> {
        let token = self.token.clone();
        let service = FlightServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let service = InterceptedService::new(service, move |request: Request<()>| {
            check_token(token.as_deref(), request)
        });
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
            .await
    }
}

fn check_token(expected: Option<&str>, request: Request<()>) -> Result<Request<()>, Status> {
    let Some(expected) = expected else {
        return Ok(request);
    };
    let presented = request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
        Ok(request)
    } else {
        Err(Status::unauthenticated(
            "a valid token is required (authorization: Bearer <token>)",
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A DoGet ticket starting with this runs the rest as NetQL; the answer's schema carries how to print it.
pub const NETQL_TICKET: &str = "netql:";

/// A NetQL error as a Flight status: the user's mistakes, rendered with the offending words
/// underlined, are invalid arguments.
fn netql_status(error: &netql::Error, statement: &str) -> Status {
    if error.is_user_error() {
        Status::invalid_argument(error.render(statement))
    } else {
        Status::internal(error.to_string())
    }
}

/// Maps engine errors to gRPC statuses: the caller's mistakes apart from server faults.
pub fn status(error: EngineError) -> Status {
    use datafusion::error::DataFusionError as Df;
    match &error {
        EngineError::UnknownTable(_) => Status::not_found(error.to_string()),
        EngineError::Query(e)
            if matches!(
                e.find_root(),
                Df::SQL(..) | Df::Plan(_) | Df::SchemaError(..) | Df::NotImplemented(_)
            ) =>
        {
            Status::invalid_argument(error.to_string())
        }
        e if e.is_user_error() => Status::invalid_argument(error.to_string()),
        EngineError::Closed => Status::unavailable(error.to_string()),
        _ => Status::internal(error.to_string()),
    }
}

impl FlightServer {
    fn table_of(&self, descriptor: &FlightDescriptor) -> Result<&'static TableDef, Status> {
        if descriptor.r#type() != DescriptorType::Path || descriptor.path.len() != 1 {
            return Err(Status::invalid_argument(
                "expected a path descriptor naming one table, e.g. [\"bgp\"]",
            ));
        }
        self.engine.table(&descriptor.path[0]).map_err(status)
    }

    fn table_info(&self, table: &TableDef) -> Result<FlightInfo, Status> {
        let ticket = Ticket::new(format!("SELECT * FROM {}", table.name));
        Ok(FlightInfo::new()
            .try_with_schema(&table.schema())
            .map_err(|e| Status::internal(e.to_string()))?
            .with_descriptor(FlightDescriptor::new_path(vec![table.name.to_string()]))
            .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
            .with_total_records(-1))
    }

    async fn query_info(&self, descriptor: FlightDescriptor) -> Result<FlightInfo, Status> {
        let query = std::str::from_utf8(&descriptor.cmd)
            .map_err(|_| Status::invalid_argument("the command is not UTF-8"))?;
        let frame = self.engine.sql(query).await.map_err(status)?;
        let schema = frame.schema().as_arrow().clone();
        Ok(FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(descriptor.cmd.clone())))
            .with_descriptor(descriptor))
    }

    /// Runs a NetQL statement and streams its answer, the reading in the schema's metadata.
    async fn netql(&self, statement: &str) -> Result<Response<Stream<FlightData>>, Status> {
        let now = chrono::Utc::now().timestamp_micros();
        let answer = netql::run(&self.catalog, statement, now)
            .await
            .map_err(|e| netql_status(&e, statement))?;
        let schema = answer.schema_with_metadata();
        let with_metadata = Arc::clone(&schema);
        let batches = answer.batches.into_iter().map(move |batch| {
            batch
                .with_schema(Arc::clone(&with_metadata))
                .map_err(FlightError::from)
        });
        let encoded = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(futures::stream::iter(batches))
            .map_err(|e| Status::internal(e.to_string()));
        Ok(Response::new(Box::pin(encoded)))
    }
}

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl FlightService for FlightServer {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoExchangeStream = Stream<FlightData>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;

    async fn handshake(
        &self,
        _: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(Status::unimplemented(
            "no handshake: send the token as `authorization: Bearer <token>`",
        ))
    }

    async fn list_flights(
        &self,
        _: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        let infos: Vec<_> = self
            .engine
            .tables()
            .iter()
            .map(|t| self.table_info(t))
            .collect();
        Ok(Response::new(Box::pin(futures::stream::iter(infos))))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let descriptor = request.into_inner();
        let info = match descriptor.r#type() {
            DescriptorType::Cmd => self.query_info(descriptor).await?,
            _ => self.table_info(self.table_of(&descriptor)?)?,
        };
        Ok(Response::new(info))
    }

    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented(
            "queries run synchronously: use GetFlightInfo or DoGet",
        ))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let table = self.table_of(&request.into_inner())?;
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        let result = SchemaAsIpc::new(&table.schema(), &options)
            .try_into()
            .map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(Response::new(result))
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let ticket = request.into_inner();
        let query = std::str::from_utf8(&ticket.ticket)
            .map_err(|_| Status::invalid_argument("the ticket is not UTF-8 SQL"))?;
        if let Some(statement) = query.strip_prefix(NETQL_TICKET) {
            return self.netql(statement).await;
        }
        let frame = self.engine.sql(query).await.map_err(status)?;
        let batches = frame.execute_stream().await.map_err(|e| status(e.into()))?;
        let batches = batches.map_err(|e| FlightError::from_external_error(Box::new(e)));
        let encoded = FlightDataEncoderBuilder::new()
            .build(batches)
            .map_err(|e| Status::internal(e.to_string()));
        Ok(Response::new(Box::pin(encoded)))
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        let mut input = request.into_inner();
        let first = input
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty DoPut stream"))?;
        let descriptor = first.flight_descriptor.clone().ok_or_else(|| {
            Status::invalid_argument(
                "DoPut needs a path descriptor naming the table, e.g. [\"bgp\"]",
            )
        })?;
        let table = self.table_of(&descriptor)?;
        let data = futures::stream::once(async { Ok(first) })
            .chain(input)
            .map_err(|s| FlightError::Tonic(Box::new(s)))
            .boxed();
        let (tx, rx) = mpsc::channel(PUTS_IN_FLIGHT * 2);
        tokio::spawn(append_stream(self.engine.clone(), table, data, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("DoExchange is not supported"))
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = request.into_inner();
        let body = match action.r#type.as_str() {
            "flush" => {
                let stats = self.engine.flush().await.map_err(status)?;
                serde_json::json!({"rows": stats.rows, "files": stats.files, "bytes": stats.bytes})
            }
            "maintain" => {
                let stats = self.engine.maintain().await.map_err(status)?;
                serde_json::json!({
                    "files_merged": stats.files_merged,
                    "files_written": stats.files_written,
                    "checkpoints_written": stats.checkpoints_written,
                    "files_dropped": stats.files_dropped,
                })
            }
            other => {
                return Err(Status::invalid_argument(format!(
                    "unknown action `{other}` (flush, maintain)"
                )));
            }
        };
        let result = arrow_flight::Result {
            body: body.to_string().into(),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(result)]))))
    }

    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        let actions = [
            ("flush", "write every acknowledged row to Parquet now"),
            (
                "maintain",
                "compact small files, write due checkpoints, apply retention",
            ),
        ]
        .map(|(name, description)| {
            Ok(ActionType {
                r#type: name.into(),
                description: description.into(),
            })
        });
        Ok(Response::new(Box::pin(futures::stream::iter(actions))))
    }
}

/// Appends every batch of a DoPut stream, keeping up to `PUTS_IN_FLIGHT` waiting for their fsync,
/// and answers each with a `PutResult` in order. On a bad batch the acks of the batches before it
/// are still sent, then the error.
async fn append_stream(
    engine: Engine,
    table: &'static TableDef,
    data: BoxStream<'static, Result<FlightData, FlightError>>,
    tx: mpsc::Sender<Result<PutResult, Status>>,
) {
    let mut messages = FlightDataDecoder::new(data);
    let mut in_flight = FuturesOrdered::new();
    let mut failure = None;
    loop {
        tokio::select! {
            biased;
            Some((origin, done)) = in_flight.next(), if !in_flight.is_empty() => {
                if !send_ack(&tx, table, origin, done).await {
                    return;
                }
            }
            next = messages.next(), if in_flight.len() < PUTS_IN_FLIGHT && failure.is_none() => match next {
                None => break,
                Some(Ok(message)) => {
                    let DecodedPayload::RecordBatch(batch) = message.payload else {
                        continue;
                    };
                    match origin_of(&message.inner.app_metadata) {
                        Ok(origin) => {
                            engine.backpressure().await;
                            match engine.submit_from(table.name, &batch, origin.clone()) {
                                Ok(ack) => in_flight.push_back(async move { (origin, ack.await) }),
                                Err(e) => failure = Some(status(e)),
                            }
                        }
                        Err(e) => failure = Some(e),
                    }
                }
                Some(Err(e)) => failure = Some(Status::invalid_argument(format!("cannot decode the batch: {e}"))),
            },
            else => break,
        }
        if failure.is_some() && in_flight.is_empty() {
            break;
        }
    }
    while let Some((origin, done)) = in_flight.next().await {
        if !send_ack(&tx, table, origin, done).await {
            return;
        }
    }
    if let Some(failure) = failure {
        let _ = tx.send(Err(failure)).await;
    }
}

/// The origin a batch's app_metadata names, if any.
fn origin_of(metadata: &[u8]) -> Result<Option<Origin>, Status> {
    if metadata.is_empty() {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    struct Numbered {
        source: String,
        seq: u64,
    }
    let numbered: Numbered = serde_json::from_slice(metadata).map_err(|e| {
        Status::invalid_argument(format!(
            "app_metadata must be {{\"source\": name, \"seq\": n}}: {e}"
        ))
    })?;
    if numbered.source.is_empty() || numbered.source.len() > 256 {
        return Err(Status::invalid_argument(
            "the source name must have 1 to 256 bytes",
        ));
    }
    Ok(Some(Origin {
        source: numbered.source.into(),
        seq: numbered.seq,
    }))
}

async fn send_ack(
    tx: &mpsc::Sender<Result<PutResult, Status>>,
    table: &TableDef,
    origin: Option<Origin>,
    done: sonde_engine::Result<usize>,
) -> bool {
    let message = done.map(|rows| {
        let mut ack = serde_json::json!({"table": table.name, "rows": rows});
        if let Some(origin) = origin {
            ack["source"] = origin.source.as_ref().into();
            ack["seq"] = origin.seq.into();
        }
        PutResult {
            app_metadata: ack.to_string().into(),
        }
    });
    let failed = message.is_err();
    let sent = tx.send(message.map_err(status)).await.is_ok();
    sent && !failed
}
