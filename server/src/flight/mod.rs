//! The Arrow Flight server, one endpoint for agents, analysts and tools:
//! - DoPut appends batches to the table a path descriptor names and answers one `PutResult` per
//!   batch once it is durable (a batch may carry `{"source": name, "seq": n}` as its app_metadata:
//!   one already stored is acknowledged, not stored twice);
//! - DoGet runs a ticket holding `{"sql": …}` or `{"netql": …}` (or plain SQL, or `netql:` and a
//!   statement) and streams the answer; ListFlights, GetFlightInfo and GetSchema describe the
//!   tables and queries; the `flush` and `maintain` actions run those jobs now;
//! - Flight SQL ([`sql`]) for ADBC, JDBC and the other Flight SQL clients.
//!
//! With tokens configured every call must carry `authorization: Bearer <token>` (or Basic
//! credentials whose password is a token, as a handshake sends them), and what the token allows
//! is checked per call ([`auth`]). TLS is optional.

mod auth;
mod put;
mod query;
mod sql;

use std::future::Future;
use std::pin::Pin;

use arrow_flight::flight_descriptor::DescriptorType;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::{StreamExt, TryStreamExt};
use sonde_schema::TableDef;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::{Request, Response, Status, Streaming};

use sonde_engine::{Engine, EngineError};

pub use auth::{Need, TlsFiles, Tokens};
use auth::{Secret, require};
pub use query::{NETQL_TICKET, Queries, Query};
use sql::{SqlService, is_flight_sql};

/// Largest Flight message accepted: one record batch of a DoPut.
const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// How the Flight endpoint admits its callers.
#[derive(Debug, Clone, Default)]
pub struct FlightConfig {
    pub tokens: Tokens,
    /// Serve over TLS with this certificate and key.
    pub tls: Option<TlsFiles>,
}

/// Serves one engine over Arrow Flight and Flight SQL.
#[derive(Debug, Clone)]
pub struct FlightServer {
    queries: Queries,
    sql: SqlService,
    config: FlightConfig,
}

/// Why the Flight endpoint stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum FlightServeError {
    #[error("cannot set up TLS: {0}")]
    Tls(#[source] std::io::Error),
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

impl FlightServer {
    pub fn new(engine: Engine, config: FlightConfig) -> Self {
        let queries = Queries::new(engine);
        FlightServer {
            sql: SqlService::new(queries.clone()),
            queries,
            config,
        }
    }

    /// Serves on `listener` until `shutdown` resolves.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), FlightServeError> {
        let tokens = self.config.tokens.clone();
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &self.config.tls {
            builder = builder.tls_config(tls.server_config().map_err(FlightServeError::Tls)?)?;
        }
        let service = FlightServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let service =
            InterceptedService::new(service, move |request: Request<()>| tokens.check(request));
        builder
            .add_service(service)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
            .await?;
        Ok(())
    }

    fn engine(&self) -> &Engine {
        self.queries.engine()
    }
}

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
        self.engine().table(&descriptor.path[0]).map_err(status)
    }

    fn table_info(&self, table: &TableDef) -> Result<FlightInfo, Status> {
        let query = Query::Sql(format!("SELECT * FROM {}", table.name));
        Ok(FlightInfo::new()
            .try_with_schema(&table.schema())
            .map_err(|e| Status::internal(e.to_string()))?
            .with_descriptor(FlightDescriptor::new_path(vec![table.name.to_string()]))
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(query.to_json())))
            .with_total_records(-1))
    }

    /// A command descriptor that is not Flight SQL: its `cmd` is a query as a ticket holds one.
    async fn query_info(&self, descriptor: FlightDescriptor) -> Result<FlightInfo, Status> {
        let query = Query::parse(&descriptor.cmd)?;
        let schema = self.queries.schema(&query).await?;
        Ok(FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(query.to_json())))
            .with_descriptor(descriptor)
            .with_total_records(-1))
    }
}

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The actions of the store itself, beside Flight SQL's.
const STORE_ACTIONS: [(&str, &str); 2] = [
    ("flush", "write every acknowledged row to Parquet now"),
    (
        "maintain",
        "compact small files, write due checkpoints, apply retention",
    ),
];

#[tonic::async_trait]
impl FlightService for FlightServer {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoExchangeStream = Stream<FlightData>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;

    /// Nothing to negotiate: the caller got in with a token (a bearer, or Basic credentials whose
    /// password is one), and the answer hands it back as the bearer token for the calls to come.
    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        let secret = request.extensions().get::<Secret>().cloned();
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: Default::default(),
        };
        let mut response: Response<Self::HandshakeStream> =
            Response::new(Box::pin(futures::stream::iter([Ok(reply)])));
        if let Some(Secret(secret)) = secret {
            let bearer: MetadataValue<_> = format!("Bearer {secret}")
                .parse()
                .map_err(|_| Status::invalid_argument("the token is not a valid header value"))?;
            response.metadata_mut().insert("authorization", bearer);
        }
        Ok(response)
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        require(&request, Need::Read)?;
        let infos: Vec<_> = self
            .engine()
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
        require(&request, Need::Read)?;
        let descriptor = request.get_ref();
        if descriptor.r#type() == DescriptorType::Cmd && is_flight_sql(&descriptor.cmd) {
            return FlightService::get_flight_info(&self.sql, request).await;
        }
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
        require(&request, Need::Read)?;
        let descriptor = request.into_inner();
        let schema = match descriptor.r#type() {
            DescriptorType::Cmd if is_flight_sql(&descriptor.cmd) => {
                return Err(Status::unimplemented(
                    "GetSchema of a Flight SQL command: use GetFlightInfo, whose answer carries the schema",
                ));
            }
            DescriptorType::Cmd => {
                let query = Query::parse(&descriptor.cmd)?;
                self.queries.schema(&query).await?
            }
            _ => self.table_of(&descriptor)?.schema(),
        };
        let options = arrow::ipc::writer::IpcWriteOptions::default();
        let result = SchemaAsIpc::new(&schema, &options)
            .try_into()
            .map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(Response::new(result))
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        require(&request, Need::Read)?;
        if is_flight_sql(&request.get_ref().ticket) {
            return FlightService::do_get(&self.sql, request).await;
        }
        let stream = match Query::parse(&request.get_ref().ticket)? {
            Query::Sql(sql) => self.queries.stream_sql(&sql).await?,
            Query::Netql(statement) => self.queries.stream_netql(&statement, true).await?,
        };
        Ok(Response::new(stream))
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        require(&request, Need::Write)?;
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
        if is_flight_sql(&descriptor.cmd) {
            return Err(Status::unimplemented(
                "Flight SQL updates and ingestion are not taken: DoPut with a path descriptor \
                 naming the table, e.g. [\"bgp\"]",
            ));
        }
        let table = self.table_of(&descriptor)?;
        let data = futures::stream::once(async { Ok(first) })
            .chain(input)
            .map_err(|s| arrow_flight::error::FlightError::Tonic(Box::new(s)))
            .boxed();
        let (tx, rx) = mpsc::channel(put::PUTS_IN_FLIGHT * 2);
        tokio::spawn(put::append_stream(self.engine().clone(), table, data, tx));
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
        let body = match request.get_ref().r#type.as_str() {
            "flush" => {
                require(&request, Need::Write)?;
                let stats = self.engine().flush().await.map_err(status)?;
                serde_json::json!({"rows": stats.rows, "files": stats.files, "bytes": stats.bytes})
            }
            "maintain" => {
                require(&request, Need::Write)?;
                let stats = self.engine().maintain().await.map_err(status)?;
                serde_json::json!({
                    "files_merged": stats.files_merged,
                    "files_written": stats.files_written,
                    "checkpoints_written": stats.checkpoints_written,
                    "files_dropped": stats.files_dropped,
                })
            }
            _ => {
                require(&request, Need::Read)?;
                return FlightService::do_action(&self.sql, request).await;
            }
        };
        let result = arrow_flight::Result {
            body: body.to_string().into(),
        };
        Ok(Response::new(Box::pin(futures::stream::iter([Ok(result)]))))
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        let store = STORE_ACTIONS.map(|(name, description)| {
            Ok(ActionType {
                r#type: name.into(),
                description: description.into(),
            })
        });
        let flight_sql = FlightService::list_actions(&self.sql, request)
            .await?
            .into_inner();
        Ok(Response::new(Box::pin(
            futures::stream::iter(store).chain(flight_sql),
        )))
    }
}
