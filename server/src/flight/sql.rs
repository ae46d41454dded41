//! Flight SQL, as ADBC's driver and the JDBC driver speak it: statements (prepared or not) whose
//! handles and tickets carry the query itself, and the catalog calls (catalogs, schemas, tables
//! with their Arrow schemas, table types, SQL info). Queries are SQL, or NetQL written as
//! `{"netql": "check bgp"}`. The store is read-only through Flight SQL: rows arrive by DoPut on a
//! path descriptor, as agents send them.

use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::FlightSqlService;
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket,
};
use datafusion::catalog::CatalogProviderList;
use datafusion::logical_expr::TableType;
use futures::TryStreamExt;
use prost::Message;
use tonic::{Request, Response, Status};

use super::Stream;
use super::query::{Queries, Query};

/// Where every Flight SQL message's type lives.
const FLIGHT_SQL_TYPE_PREFIX: &str = "type.googleapis.com/arrow.flight.protocol.sql.";

/// Whether `bytes` (a ticket, or a command descriptor's `cmd`) is a Flight SQL message.
pub fn is_flight_sql(bytes: &[u8]) -> bool {
    Any::decode(bytes).is_ok_and(|any| any.type_url.starts_with(FLIGHT_SQL_TYPE_PREFIX))
}

/// The Flight SQL half of the Flight service.
#[derive(Clone)]
pub struct SqlService {
    queries: Queries,
    info: Arc<SqlInfoData>,
}

impl std::fmt::Debug for SqlService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlService").finish_non_exhaustive()
    }
}

impl SqlService {
    pub fn new(queries: Queries) -> Self {
        let read_only = queries.engine().config().read_only;
        SqlService {
            queries,
            info: Arc::new(sql_info(read_only)),
        }
    }

    /// A FlightInfo with one endpoint whose ticket is `ticket`.
    fn info(
        schema: &Schema,
        descriptor: FlightDescriptor,
        ticket: Vec<u8>,
    ) -> Result<FlightInfo, Status> {
        Ok(FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(format!("cannot encode the schema: {e}")))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
            .with_descriptor(descriptor)
            .with_total_records(-1))
    }

    async fn query_info(
        &self,
        query: Query,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = self.queries.schema(&query).await?;
        let ticket = TicketStatementQuery {
            statement_handle: query.to_json().into(),
        };
        let ticket = ticket.as_any().encode_to_vec();
        Ok(Response::new(Self::info(&schema, descriptor, ticket)?))
    }

    /// A FlightInfo whose ticket is the catalog command itself, answered by DoGet.
    fn command_info(
        command: impl ProstMessageExt,
        schema: &Schema,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = command.as_any().encode_to_vec();
        Ok(Response::new(Self::info(schema, descriptor, ticket)?))
    }

    fn catalogs(&self) -> Arc<dyn CatalogProviderList> {
        self.queries
            .engine()
            .session()
            .state()
            .catalog_list()
            .clone()
    }

    /// Every (catalog, schema) the session holds.
    fn schemas(&self) -> Vec<(String, String)> {
        let list = self.catalogs();
        let mut schemas = Vec::new();
        for catalog_name in list.catalog_names() {
            if let Some(catalog) = list.catalog(&catalog_name) {
                for schema_name in catalog.schema_names() {
                    schemas.push((catalog_name.clone(), schema_name));
                }
            }
        }
        schemas.sort();
        schemas
    }
}

fn sql_info(read_only: bool) -> SqlInfoData {
    let mut builder = SqlInfoDataBuilder::new();
    builder.append(SqlInfo::FlightSqlServerName, "Sonde");
    builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    builder.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    builder.append(SqlInfo::FlightSqlServerReadOnly, read_only);
    builder.append(SqlInfo::FlightSqlServerSql, true);
    builder.append(SqlInfo::FlightSqlServerSubstrait, false);
    builder.append(SqlInfo::FlightSqlServerTransaction, 0i32);
    builder.append(SqlInfo::FlightSqlServerCancel, false);
    builder.append(SqlInfo::SqlDdlCatalog, false);
    builder.append(SqlInfo::SqlDdlSchema, false);
    builder.append(SqlInfo::SqlDdlTable, false);
    builder.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    builder.append(SqlInfo::SqlQuotedIdentifierCase, 1i32);
    builder
        .build()
        .expect("fixed SQL info of known types always builds")
}

/// Streams one batch a catalog builder made.
fn one_batch(
    batch: Result<arrow::array::RecordBatch, impl std::fmt::Display>,
    schema: arrow::datatypes::SchemaRef,
) -> Result<Response<Stream<arrow_flight::FlightData>>, Status> {
    let batch = batch.map_err(|e| Status::internal(e.to_string()))?;
    let encoded = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::iter([Ok(batch)]))
        .map_err(Status::from);
    Ok(Response::new(Box::pin(encoded)))
}

fn table_type_name(table_type: TableType) -> &'static str {
    match table_type {
        TableType::Base => "BASE TABLE",
        TableType::View => "VIEW",
        TableType::Temporary => "LOCAL TEMPORARY",
    }
}

const TABLE_TYPES: [&str; 3] = ["BASE TABLE", "VIEW", "LOCAL TEMPORARY"];

#[tonic::async_trait]
impl FlightSqlService for SqlService {
    type FlightService = SqlService;

    async fn get_flight_info_statement(
        &self,
        command: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let query = Query::parse(command.query.as_bytes())?;
        self.query_info(query, request.into_inner()).await
    }

    async fn get_flight_info_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let query = Query::parse(&command.prepared_statement_handle)?;
        self.query_info(query, request.into_inner()).await
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let query = Query::parse(&ticket.statement_handle)?;
        Ok(Response::new(self.queries.stream(&query).await?))
    }

    async fn do_get_prepared_statement(
        &self,
        command: CommandPreparedStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let query = Query::parse(&command.prepared_statement_handle)?;
        Ok(Response::new(self.queries.stream(&query).await?))
    }

    async fn do_action_create_prepared_statement(
        &self,
        request: ActionCreatePreparedStatementRequest,
        _action: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let query = Query::parse(request.query.as_bytes())?;
        let schema = self.queries.schema(&query).await?;
        let IpcMessage(dataset_schema) =
            SchemaAsIpc::new(&schema, &arrow::ipc::writer::IpcWriteOptions::default())
                .try_into()
                .map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: query.to_json().into(),
            dataset_schema,
            parameter_schema: Default::default(),
        })
    }

    /// Handles hold no server state, so closing one has nothing to free.
    async fn do_action_close_prepared_statement(
        &self,
        _request: ActionClosePreparedStatementRequest,
        _action: Request<Action>,
    ) -> Result<(), Status> {
        Ok(())
    }

    async fn get_flight_info_catalogs(
        &self,
        command: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = command.into_builder().schema();
        Self::command_info(command, &schema, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        command: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = command.into_builder();
        let mut names = self.catalogs().catalog_names();
        names.sort();
        for name in names {
            builder.append(name);
        }
        let schema = builder.schema();
        one_batch(builder.build(), schema)
    }

    async fn get_flight_info_schemas(
        &self,
        command: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = command.clone().into_builder().schema();
        Self::command_info(command, &schema, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        command: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = command.into_builder();
        for (catalog, schema) in self.schemas() {
            builder.append(catalog, schema);
        }
        let schema = builder.schema();
        one_batch(builder.build(), schema)
    }

    async fn get_flight_info_tables(
        &self,
        command: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = command.clone().into_builder().schema();
        Self::command_info(command, &schema, request.into_inner())
    }

    async fn do_get_tables(
        &self,
        command: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = command.into_builder();
        let list = self.catalogs();
        for (catalog_name, schema_name) in self.schemas() {
            let Some(schema) = list
                .catalog(&catalog_name)
                .and_then(|c| c.schema(&schema_name))
            else {
                continue;
            };
            let mut tables = schema.table_names();
            tables.sort();
            for table_name in tables {
                let Ok(Some(table)) = schema.table(&table_name).await else {
                    continue;
                };
                builder
                    .append(
                        &catalog_name,
                        &schema_name,
                        &table_name,
                        table_type_name(table.table_type()),
                        &table.schema(),
                    )
                    .map_err(|e| Status::internal(e.to_string()))?;
            }
        }
        let schema = builder.schema();
        one_batch(builder.build(), schema)
    }

    async fn get_flight_info_table_types(
        &self,
        command: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = command.into_builder().schema();
        Self::command_info(command, &schema, request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        command: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let mut builder = command.into_builder();
        for table_type in TABLE_TYPES {
            builder.append(table_type);
        }
        let schema = builder.schema();
        one_batch(builder.build(), schema)
    }

    async fn get_flight_info_sql_info(
        &self,
        command: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = command.clone().into_builder(&self.info).schema();
        Self::command_info(command, &schema, request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        command: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<<Self as FlightService>::DoGetStream>, Status> {
        let builder = command.into_builder(&self.info);
        let schema = builder.schema();
        one_batch(builder.build(), schema)
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}
