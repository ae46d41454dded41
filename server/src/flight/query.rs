//! The queries Flight carries and how they run. A ticket or statement handle holds the query
//! itself (`{"sql": …}` or `{"netql": …}`), so tickets are stateless and any server over the same
//! store can answer one another's; the schema announced before a query runs is the schema it
//! streams.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use datafusion::physical_plan::ExecutionPlan;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sonde_engine::Engine;
use tonic::Status;

use super::{Stream, netql_status, status};
use crate::catalog::EngineCatalog;
use arrow_flight::FlightData;

/// A DoGet ticket starting with this runs the rest as NetQL; the answer's schema carries how to print it.
pub const NETQL_TICKET: &str = "netql:";

/// One query, in the language it is written in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Query {
    Sql(String),
    Netql(String),
}

impl Query {
    /// Reads `{"sql": …}` or `{"netql": …}`, a `netql:` prefix, or else plain SQL.
    pub fn parse(bytes: &[u8]) -> Result<Query, Status> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Status::invalid_argument("the query is not UTF-8"))?;
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return serde_json::from_str(trimmed).map_err(|e| {
                Status::invalid_argument(format!(
                    "a JSON query must be {{\"sql\": \"…\"}} or {{\"netql\": \"…\"}}: {e}"
                ))
            });
        }
        Ok(match text.strip_prefix(NETQL_TICKET) {
            Some(statement) => Query::Netql(statement.to_string()),
            None => Query::Sql(text.to_string()),
        })
    }

    /// The query as a ticket or statement handle carries it.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Runs queries over one engine.
#[derive(Debug, Clone)]
pub struct Queries {
    catalog: EngineCatalog,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Queries {
    pub fn new(engine: Engine) -> Self {
        Queries {
            catalog: EngineCatalog::new(engine),
        }
    }

    pub fn engine(&self) -> &Engine {
        self.catalog.engine()
    }

    pub fn catalog(&self) -> &EngineCatalog {
        &self.catalog
    }

    /// The schema `query` answers with, found by planning it (nothing is read).
    pub async fn schema(&self, query: &Query) -> Result<SchemaRef, Status> {
        match query {
            Query::Sql(sql) => Ok(self.sql_plan(sql).await?.schema()),
            Query::Netql(statement) => {
                let parsed = netql::parse(statement)
                    .map_err(|e| netql_status(&netql::Error::Parse(e), statement))?;
                let planned = netql::Planner::new(&self.catalog, now())
                    .plan(&parsed)
                    .map_err(|e| netql_status(&e, statement))?;
                Ok(Arc::clone(planned.plan.schema().inner()))
            }
        }
    }

    async fn sql_plan(&self, sql: &str) -> Result<Arc<dyn ExecutionPlan>, Status> {
        let frame = self.engine().sql(sql).await.map_err(status)?;
        self.engine()
            .physical_plan(frame.into_unoptimized_plan())
            .await
            .map_err(status)
    }

    /// Runs `query` and streams its rows under the schema [`Queries::schema`] announces.
    pub async fn stream(&self, query: &Query) -> Result<Stream<FlightData>, Status> {
        match query {
            Query::Sql(sql) => self.stream_sql(sql).await,
            Query::Netql(statement) => self.stream_netql(statement, false).await,
        }
    }

    /// Streams an SQL query's rows as DataFusion produces them.
    pub async fn stream_sql(&self, sql: &str) -> Result<Stream<FlightData>, Status> {
        let plan = self.sql_plan(sql).await?;
        let schema = plan.schema();
        let task = self.engine().session().task_ctx();
        let batches = datafusion::physical_plan::execute_stream(plan, task)
            .map_err(|e| status(e.into()))?
            .map_err(|e| FlightError::from_external_error(Box::new(e)));
        let encoded = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(batches)
            .map_err(flight_status);
        Ok(Box::pin(encoded))
    }

    /// Runs a NetQL statement; `with_reading` attaches how to print the answer (the check's
    /// counts, the time it read) as schema metadata, which `sonde --server` reads back.
    pub async fn stream_netql(
        &self,
        statement: &str,
        with_reading: bool,
    ) -> Result<Stream<FlightData>, Status> {
        let answer = netql::run(&self.catalog, statement, now())
            .await
            .map_err(|e| netql_status(&e, statement))?;
        let schema = if with_reading {
            answer.schema_with_metadata()
        } else {
            Arc::clone(&answer.schema)
        };
        let with_schema = Arc::clone(&schema);
        let batches = answer.batches.into_iter().map(move |batch| {
            batch
                .with_schema(Arc::clone(&with_schema))
                .map_err(FlightError::from)
        });
        let encoded = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(futures::stream::iter(batches))
            .map_err(flight_status);
        Ok(Box::pin(encoded))
    }
}

/// A failure while streaming, with the query's own message.
fn flight_status(error: FlightError) -> Status {
    match error {
        FlightError::Tonic(status) => *status,
        FlightError::ExternalError(e) => Status::internal(format!("the query failed: {e}")),
        other => Status::internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_read_json_the_netql_prefix_and_plain_sql() {
        let parse = |text: &str| Query::parse(text.as_bytes()).expect("a query");
        assert_eq!(
            parse(r#"{"netql": "check bgp"}"#),
            Query::Netql("check bgp".into())
        );
        assert_eq!(
            parse(r#" {"sql": "SELECT 1"}"#),
            Query::Sql("SELECT 1".into())
        );
        assert_eq!(parse("netql:show bgp"), Query::Netql("show bgp".into()));
        assert_eq!(parse("SELECT 1"), Query::Sql("SELECT 1".into()));
        let query = Query::Netql("spine01 show bgp around 10h".into());
        assert_eq!(Query::parse(&query.to_json()).expect("round trip"), query);
    }

    #[test]
    fn a_malformed_json_ticket_is_an_invalid_argument() {
        for bad in [r#"{"python": "x"}"#, "{", r#"{"sql": 3}"#] {
            let error = Query::parse(bad.as_bytes()).expect_err(bad);
            assert_eq!(error.code(), tonic::Code::InvalidArgument, "{bad}");
        }
        assert!(Query::parse(&[0xff, 0xfe]).is_err());
    }
}
