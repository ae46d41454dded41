//! Shared fixtures: the server in this process on a free port ([`TestServer`]), a `sonde serve`
//! child process for the tests where the process is the point ([`Server`]: SIGKILL, SIGTERM, the
//! agent lab's namespaces), Flight clients, and BGP batches.

pub mod lab;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{
    ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray, UInt32Array,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow_flight::FlightClient;
use sonde_engine::EngineConfig;
use sonde_server::{Listeners, ServerConfig};
use tokio::sync::oneshot;
use tonic::transport::Channel;

pub const HOUR: i64 = 3_600_000_000;
/// 2026-11-01T00:00:00Z in µs.
pub const T0: i64 = 1_793_491_200_000_000;

/// One BGP session row as the tests write it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bgp {
    pub ts: i64,
    pub host: String,
    pub peer: String,
    pub state: String,
    pub asn: u32,
    pub active: bool,
}

impl Bgp {
    pub fn new(ts: i64, host: &str, peer: &str, state: &str, asn: u32, active: bool) -> Self {
        Bgp {
            ts,
            host: host.into(),
            peer: peer.into(),
            state: state.into(),
            asn,
            active,
        }
    }
}

/// A batch with the BGP columns the tests use; the engine fills the other value columns with nulls.
pub fn bgp_batch(rows: &[Bgp]) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("hostname", DataType::Utf8, false),
        Field::new("vrf", DataType::Utf8, false),
        Field::new("peer", DataType::Utf8, false),
        Field::new("state", DataType::Utf8, true),
        Field::new("asn", DataType::UInt32, true),
        Field::new("active", DataType::Boolean, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.ts))
                .with_timezone("UTC"),
        ),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.host.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|_| "default"),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.peer.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.state.as_str()),
        )),
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.asn))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(r.active)))),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).expect("valid test batch")
}

/// Reads (timestamp µs, hostname, peer, state, asn, active) rows back from query results, sorted.
pub fn bgp_rows(batches: &[RecordBatch]) -> Vec<Bgp> {
    use arrow::array::AsArray;
    use arrow::datatypes::{TimestampMicrosecondType, UInt32Type};
    let mut rows = Vec::new();
    for b in batches {
        let col = |name: &str| {
            b.column_by_name(name)
                .unwrap_or_else(|| panic!("column {name}"))
                .clone()
        };
        let (ts, host, peer, state, asn, active) = (
            col("timestamp"),
            col("hostname"),
            col("peer"),
            col("state"),
            col("asn"),
            col("active"),
        );
        for i in 0..b.num_rows() {
            rows.push(Bgp {
                ts: ts.as_primitive::<TimestampMicrosecondType>().value(i),
                host: host.as_string::<i32>().value(i).to_string(),
                peer: peer.as_string::<i32>().value(i).to_string(),
                state: state.as_string::<i32>().value(i).to_string(),
                asn: asn.as_primitive::<UInt32Type>().value(i),
                active: active.as_boolean().value(i),
            });
        }
    }
    rows.sort();
    rows
}

/// The composed server (engine, Flight, maintenance) running in the test's own runtime, its Flight
/// endpoint on a free loopback port. Dropping it stops its listeners without the final flush.
pub struct TestServer {
    server: sonde_server::Server,
    pub addr: String,
    /// Dropping the sender resolves the server's shutdown future.
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    /// A server over the local store in `data_dir`, with the defaults of `sonde serve`; every
    /// Flight call must present `token` when one is given.
    pub async fn start(data_dir: &Path, token: Option<&str>) -> TestServer {
        let mut config = ServerConfig::new(EngineConfig::local(data_dir));
        config.flight.tokens = sonde_server::Tokens::admin(token.map(str::to_string));
        TestServer::with_config(config).await
    }

    pub async fn with_config(config: ServerConfig) -> TestServer {
        let listeners = Listeners::bind_flight("127.0.0.1:0")
            .await
            .expect("binds a free port");
        TestServer::with_listeners(config, listeners).await
    }

    /// A server on listeners the test bound (an INT receiver beside Flight).
    pub async fn with_listeners(config: ServerConfig, listeners: Listeners) -> TestServer {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let server = sonde_server::Server::start(config, listeners, shutdown)
            .await
            .expect("the server starts");
        let addr = server.flight_addr().to_string();
        TestServer {
            server,
            addr,
            _stop: stop,
        }
    }

    pub async fn client(&self, token: Option<&str>) -> FlightClient {
        connect(&self.addr, token).await
    }

    /// Stops every listener, then flushes the memtable to Parquet, as SIGTERM stops `sonde serve`.
    pub async fn stop(self) -> sonde_server::Result<()> {
        self.server.stop().await
    }
}

/// A `sonde serve` child process; killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
    /// What it prints after the Flight line, line by line.
    lines: std::sync::mpsc::Receiver<String>,
}

impl Server {
    /// `sonde serve` on `data_dir`, configured by `extra` alone.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::launch(sonde_command(), data_dir, "127.0.0.1:0", extra)
    }

    /// `sonde serve` through `command` (the binary, or a wrapper that runs it in a namespace).
    pub fn launch(mut command: Command, data_dir: &Path, addr: &str, extra: &[&str]) -> Server {
        let mut child = command
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--flight-addr", addr])
            .args(["--int-addr", "127.0.0.1:0"])
            .args(extra)
            .env("SONDE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sonde serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("server prints its address");
        // Keep reading what else it prints (its other addresses), so it never writes to a
        // closed pipe.
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let addr = line
            .trim()
            .strip_prefix("sonde: Flight listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Server { child, addr, lines }
    }

    /// The address of the `name` listener (`ZTP HTTP`), from the line the server prints.
    pub fn listening(&self, name: &str) -> String {
        let prefix = format!("sonde: {name} listening on ");
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("the server printed no {name} address"));
            if let Some(address) = line.strip_prefix(&prefix) {
                return address.trim().to_string();
            }
        }
    }

    /// SIGKILL: no flush, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..600 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not stop within 30 s of SIGTERM");
    }

    pub async fn client(&self, token: Option<&str>) -> FlightClient {
        connect(&self.addr, token).await
    }
}

/// A Flight client of the server at `addr`, presenting `token` when given.
pub async fn connect(addr: &str, token: Option<&str>) -> FlightClient {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("valid uri")
        .connect()
        .await
        .expect("connects to the server");
    let mut client = FlightClient::new(channel);
    if let Some(token) = token {
        client
            .add_header("authorization", &format!("Bearer {token}"))
            .expect("valid header");
    }
    client
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Appends one batch to `table` through DoPut; the number of acknowledgements.
pub async fn put(
    client: &mut FlightClient,
    table: &str,
    batch: RecordBatch,
) -> Result<usize, String> {
    use futures::TryStreamExt;
    let data = arrow_flight::encode::FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(arrow_flight::FlightDescriptor::new_path(vec![
            table.into(),
        ])))
        .build(futures::stream::iter([Ok(batch)]));
    let acks: Vec<_> = client
        .do_put(data)
        .await
        .map_err(|e| e.to_string())?
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(acks.len())
}

/// Runs a SQL ticket over Flight and collects the batches.
pub async fn flight_sql(
    client: &mut FlightClient,
    query: &str,
) -> Result<Vec<RecordBatch>, arrow_flight::error::FlightError> {
    use futures::TryStreamExt;
    let stream = client
        .do_get(arrow_flight::Ticket::new(query.to_string()))
        .await?;
    stream.try_collect().await
}

/// The `sonde` binary, configured by its arguments only: no `SONDE_*` variable of the caller's
/// leaks in (every flag has one), and it logs warnings only.
pub fn sonde_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sonde"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SONDE_") {
            command.env_remove(name);
        }
    }
    command.env("SONDE_LOG", "warn");
    command
}

/// Runs the `sonde` binary to completion.
pub fn sonde(args: &[&str]) -> std::process::Output {
    sonde_command().args(args).output().expect("sonde runs")
}

/// The Python that has the PyPI packages (DuckDB, pyarrow, pandas, ADBC, moto): the virtual
/// environment .ci/run makes in `.venv`, else the `python3` on PATH.
pub fn python3() -> std::path::PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// Runs a Python script with [`python3`] and returns its stdout.
pub fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new(python3())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
