//! `sonde <netql…>`: one NetQL statement, against a server over Arrow Flight (`--server`) or a
//! local store opened read-only; exits 1 when a check fails, 2 when the statement is wrong.

use std::process::ExitCode;

use anyhow::Context;
use arrow::array::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::{FlightClient, Ticket};
use futures::TryStreamExt;
use netql::Answer;
use sonde_engine::Engine;
use sonde_server::{EngineCatalog, NETQL_TICKET};
use tonic::Code;

use crate::cli::QueryArgs;

/// Where statements are answered.
pub enum Backend {
    Local(EngineCatalog),
    Remote(Box<FlightClient>),
}

/// Why a statement got no answer: the user's mistake (already rendered) or a failure.
pub enum Failure {
    Statement(String),
    Other(anyhow::Error),
}

impl Backend {
    pub async fn connect(args: &QueryArgs) -> anyhow::Result<Backend> {
        match &args.server {
            Some(server) => {
                args.refuse_store_with_server()?;
                let channel = channel(server, args.tls_ca.as_deref())
                    .await
                    .with_context(|| format!("cannot reach the server at {server}"))?;
                let mut client = FlightClient::new(channel);
                if let Some(token) = &args.token {
                    client.add_header("authorization", &format!("Bearer {token}"))?;
                }
                Ok(Backend::Remote(Box::new(client)))
            }
            None => {
                if args.tls_ca.is_some() {
                    anyhow::bail!(
                        "--tls-ca (or SONDE_TLS_CA) names the certificate to trust for a --server; \
                         without --server the store is opened here and there is nothing to trust"
                    );
                }
                let engine = Engine::open(args.store.reader_config()?)
                    .await
                    .context("cannot open the store")?;
                Ok(Backend::Local(EngineCatalog::new(engine)))
            }
        }
    }

    async fn connect_remote(args: &QueryArgs) -> anyhow::Result<FlightClient> {
        match Backend::connect(args).await? {
            Backend::Remote(client) => Ok(*client),
            Backend::Local(_) => anyhow::bail!("no --server to ask"),
        }
    }

    pub async fn ask(&mut self, statement: &str) -> Result<Answer, Failure> {
        match self {
            Backend::Local(catalog) => {
                let now = chrono::Utc::now().timestamp_micros();
                netql::run(catalog, statement, now).await.map_err(|error| {
                    if error.is_user_error() {
                        Failure::Statement(error.render(statement))
                    } else {
                        Failure::Other(error.into())
                    }
                })
            }
            Backend::Remote(client) => ask_remote(client, statement).await,
        }
    }

    /// The hostnames the store knows, for completion.
    pub async fn hostnames(&mut self) -> Vec<String> {
        let Ok(answer) = self
            .ask("select hostname from agents group by hostname")
            .await
        else {
            return Vec::new();
        };
        let mut names = Vec::new();
        for batch in &answer.batches {
            if let Some(column) = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
            {
                names.extend(column.iter().flatten().map(str::to_string));
            }
        }
        names
    }
}

/// A channel to `server`: `host:port` and `http://` in the clear, `https://` (or any server when a
/// CA file is given) over TLS.
async fn channel(
    server: &str,
    ca: Option<&std::path::Path>,
) -> anyhow::Result<tonic::transport::Channel> {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    let tls = server.starts_with("https://") || ca.is_some();
    let uri = match server.split_once("://") {
        Some(("http" | "https", _)) => server.to_string(),
        Some(("grpc+tls", rest)) => format!("https://{rest}"),
        Some(("grpc" | "grpc+tcp", rest)) => format!("http://{rest}"),
        Some((scheme, _)) => anyhow::bail!(
            "--server {server}: unknown scheme `{scheme}` (use host:port, http:// or https://)"
        ),
        None if tls => format!("https://{server}"),
        None => format!("http://{server}"),
    };
    let tls = tls || uri.starts_with("https://");
    let mut endpoint = Endpoint::from_shared(uri)?;
    if tls {
        let mut config = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
            config = config.ca_certificate(Certificate::from_pem(pem));
        }
        endpoint = endpoint.tls_config(config)?;
    }
    Ok(endpoint.connect().await?)
}

async fn ask_remote(client: &mut FlightClient, statement: &str) -> Result<Answer, Failure> {
    let ticket = Ticket::new(format!("{NETQL_TICKET}{statement}"));
    let mut stream: FlightRecordBatchStream =
        client.do_get(ticket).await.map_err(remote_failure)?;
    let mut batches = Vec::new();
    while let Some(batch) = stream.try_next().await.map_err(remote_failure)? {
        batches.push(batch);
    }
    let schema = stream
        .schema()
        .cloned()
        .ok_or_else(|| Failure::Other(anyhow::anyhow!("the server sent no schema")))?;
    Answer::from_batches(schema, batches).map_err(|e| Failure::Other(e.into()))
}

/// A statement the server refused (already rendered, with its underline) or another failure,
/// each said once: a gRPC status's own message, not its debug form.
fn remote_failure(error: FlightError) -> Failure {
    match error {
        FlightError::Tonic(status) if status.code() == Code::InvalidArgument => {
            Failure::Statement(status.message().to_string())
        }
        FlightError::Tonic(status) => Failure::Other(anyhow::anyhow!(server_refusal(&status))),
        other => Failure::Other(anyhow::anyhow!("{other}")),
    }
}

fn server_refusal(status: &tonic::Status) -> String {
    let hint = match status.code() {
        Code::Unauthenticated => " (give the server's token with --token or SONDE_TOKEN)",
        Code::Unavailable => " (is the server running, and is --server its Flight address?)",
        _ => "",
    };
    format!(
        "the server answered {}: {}{hint}",
        status.code().description(),
        status.message()
    )
}

/// One SQL query over Flight, as a plain DoGet ticket.
pub async fn sql_remote(args: &QueryArgs, query: &str) -> anyhow::Result<Vec<RecordBatch>> {
    let mut client = Backend::connect_remote(args).await?;
    let answer = async {
        let mut stream = client.do_get(Ticket::new(query.to_string())).await?;
        let mut batches = Vec::new();
        while let Some(batch) = stream.try_next().await? {
            batches.push(batch);
        }
        Ok::<_, FlightError>(batches)
    };
    answer.await.map_err(|error| match remote_failure(error) {
        Failure::Statement(message) => anyhow::anyhow!("{message}"),
        Failure::Other(error) => error,
    })
}

/// Prints an answer as text, or JSON when the statement asked for it.
pub fn print_answer(answer: &Answer) -> anyhow::Result<()> {
    let text = answer.render()?;
    if answer.json {
        crate::out::println(&text)
    } else {
        crate::out::print(&text)
    }
}

/// The statement typed, with ` json` when `--json` asks for it and the statement does not.
pub fn statement(args: &QueryArgs, words: &[String]) -> String {
    let statement = words.join(" ");
    let asks_json = words
        .last()
        .is_some_and(|word| word.eq_ignore_ascii_case("json"));
    if args.json && !asks_json {
        format!("{statement} json")
    } else {
        statement
    }
}

pub async fn run(args: QueryArgs, words: Vec<String>) -> anyhow::Result<ExitCode> {
    let statement = statement(&args, &words);
    let mut backend = Backend::connect(&args).await?;
    match backend.ask(&statement).await {
        Ok(answer) => {
            print_answer(&answer)?;
            Ok(if answer.failed() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Err(Failure::Statement(message)) => {
            eprintln!("{message}");
            Ok(ExitCode::from(2))
        }
        Err(Failure::Other(error)) => Err(error),
    }
}
