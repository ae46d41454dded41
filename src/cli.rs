//! Command-line arguments, with the groups several commands share. Every flag can be set by its
//! `SONDE_*` variable: `SONDE_<FLAG>` for the flags of the store, the server and the queries (which
//! several commands share, so one environment configures them alike), `SONDE_<COMMAND>_<FLAG>`
//! for the flags of one command whose meaning is its own (`SONDE_DEMO_DATA_DIR` must not pick up
//! the store `SONDE_DATA_DIR` names, which the demo would refuse as not empty). Switches take
//! true/false, yes/no, on/off or 1/0; secrets are not shown in `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use sonde_engine::{EngineConfig, S3Options, StoreLocation};
use sonde_ingest::int::DropReasons;
use sonde_server::{FlightConfig, ImageStore, IntConfig, TlsFiles, Tokens, ZtpConfig};

#[derive(Debug, Parser)]
#[command(
    name = "sonde",
    version,
    about = "Network telemetry server and query engine"
)]
#[command(
    allow_external_subcommands = true,
    args_conflicts_with_subcommands = false,
    after_help = "Examples:\n  sonde demo\n  sonde --data-dir ./sonde-data spine01 check bgp around 10h\n  \
                  sonde --server 127.0.0.1:50051 --token \"$TOKEN\" show bgp where pfx_rx_ipv4 < 2\n  \
                  sonde sql \"SELECT count(*) FROM bgp\""
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub query: QueryArgs,
}

/// The options every command takes, before or after its name (`sonde --data-dir d sql …` and
/// `sonde sql --data-dir d …` are one command). A command they mean nothing to refuses them.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Ask this server over Arrow Flight (host:port) instead of opening a local store.
    #[arg(long, global = true, env = "SONDE_SERVER")]
    pub server: Option<String>,
    /// The server's token (`authorization: Bearer <token>`): the one a client presents, the one
    /// `serve` demands.
    #[arg(long, global = true, env = "SONDE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The PEM certificate(s) to trust for a `--server https://…` (default: the system's roots).
    #[arg(long, global = true, env = "SONDE_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Print answers as JSON.
    #[arg(long, global = true, env = "SONDE_JSON", value_parser = BoolishValueParser::new())]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl QueryArgs {
    /// Fails when any of `flags` was given: `command` has no use for them.
    pub fn refuse(&self, command: &str, flags: &[Global]) -> anyhow::Result<()> {
        for flag in flags {
            if self.given(*flag) {
                anyhow::bail!(
                    "`{command}` does not take {} ({}): {}",
                    flag.name(),
                    flag.variable(),
                    flag.instead()
                );
            }
        }
        Ok(())
    }

    /// A server answers from its own store: store flags beside `--server` would be ignored.
    pub fn refuse_store_with_server(&self) -> anyhow::Result<()> {
        if self.given(Global::Store) {
            anyhow::bail!(
                "--server asks a server, which answers from its own store: leave out the store \
                 options (--data-dir, --store, --wal-dir, --s3-*, or their SONDE_* variables)"
            );
        }
        Ok(())
    }

    fn given(&self, flag: Global) -> bool {
        let store = &self.store;
        match flag {
            Global::Server => self.server.is_some(),
            Global::Token => self.token.is_some(),
            Global::TlsCa => self.tls_ca.is_some(),
            Global::Json => self.json,
            Global::Store => {
                store.data_dir.is_some()
                    || store.store.is_some()
                    || store.wal_dir.is_some()
                    || store.s3_endpoint.is_some()
                    || store.s3_region.is_some()
                    || store.s3_access_key_id.is_some()
                    || store.s3_secret_access_key.is_some()
                    || store.s3_allow_http
            }
        }
    }
}

/// The global options, as [`QueryArgs::refuse`] names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    Server,
    Token,
    TlsCa,
    Json,
    /// `--data-dir`, `--store`, `--wal-dir` and the `--s3-*` flags.
    Store,
}

impl Global {
    fn name(self) -> &'static str {
        match self {
            Global::Server => "--server",
            Global::Token => "--token",
            Global::TlsCa => "--tls-ca",
            Global::Json => "--json",
            Global::Store => "a store (--data-dir, --store, --wal-dir, --s3-*)",
        }
    }

    fn variable(self) -> &'static str {
        match self {
            Global::Server => "or SONDE_SERVER",
            Global::Token => "or SONDE_TOKEN",
            Global::TlsCa => "or SONDE_TLS_CA",
            Global::Json => "or SONDE_JSON",
            Global::Store => "or their SONDE_* variables",
        }
    }

    fn instead(self) -> &'static str {
        match self {
            Global::Server => "it works on this machine; leave the option out",
            Global::Token | Global::TlsCa => "it talks to no server; leave the option out",
            Global::Json => "it prints no answers; leave the option out",
            Global::Store => "it keeps no store; leave the option out",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try Sonde at once: an embedded server with the reference data centre's simulated history
    /// (faults included, running live) and a guided REPL.
    #[command(after_help = "Examples:\n  sonde demo\n  sonde demo --data-dir ./demo-store")]
    Demo(DemoArgs),
    /// Run the server: the event store and its Arrow Flight endpoint.
    #[command(
        after_help = "Examples:\n  sonde serve --data-dir /var/lib/sonde --token \"$TOKEN\"\n  sonde serve --ztp /etc/sonde/ztp --dhcp-interface eth1"
    )]
    Serve(Box<ServeArgs>),
    /// Write a large simulated history into a new store (for benchmarks and trying queries at scale).
    #[command(after_help = "Example:\n  sonde --data-dir ./big simulate --nodes 1000 --days 30")]
    Simulate(SimulateArgs),
    /// Run one SQL query over a store and print the result.
    #[command(
        after_help = "Examples:\n  sonde sql \"SELECT hostname, state FROM state_at('bgp', '2026-11-20T10:00:00Z')\"\n  sonde --server 127.0.0.1:50051 --json sql \"SELECT count(*) FROM interfaces\""
    )]
    Sql(SqlArgs),
    /// Load telemetry from elsewhere into a store: `sonde import pcap capture.pcapng`.
    #[command(
        after_help = "Example:\n  sonde --data-dir ./sonde-data import pcap capture.pcapng --port 31337"
    )]
    Import(ImportArgs),
    /// Zero-touch provisioning: serve it alone, or manage its images, configurations and serials.
    #[command(
        after_help = "Examples:\n  sonde ztp serve --ztp ./ztp --data-dir ./sonde-data\n  sonde ztp map SERIAL1 --ztp ./ztp --startup leaf01.conf --image onie-installer.bin"
    )]
    Ztp(ZtpCommand),
    /// Copy closed partitions and their checkpoints to object storage, and check the copy.
    #[command(
        after_help = "Examples:\n  sonde --data-dir /var/lib/sonde archive push --to s3://noc-archive/fabric1 --since 30d\n  sonde --data-dir /var/lib/sonde archive verify --to s3://noc-archive/fabric1\n  sonde --store s3://noc-archive/fabric1 spine01 show bgp around 10h"
    )]
    Archive(ArchiveCommand),
    /// Any other words are one NetQL statement: `sonde spine01 check bgp around 10h`.
    #[command(external_subcommand)]
    Netql(Vec<String>),
}

/// Where the data lives.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Local directory of the store (Parquet tree and WAL); for `demo`, the new directory to keep
    /// its store in [default: ./sonde-data] [env: SONDE_DATA_DIR; for demo SONDE_DEMO_DATA_DIR]
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Store the Parquet tree elsewhere: `s3://bucket/prefix` or a directory. The WAL stays under --wal-dir.
    #[arg(long, global = true, env = "SONDE_STORE")]
    pub store: Option<String>,
    /// WAL directory (default: `<data-dir>/wal`).
    #[arg(long, global = true, env = "SONDE_WAL_DIR")]
    pub wal_dir: Option<PathBuf>,
    /// S3 endpoint, for S3-compatible servers.
    #[arg(long, global = true, env = "SONDE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region.
    #[arg(long, global = true, env = "SONDE_S3_REGION")]
    pub s3_region: Option<String>,
    /// S3 access key id (default: AWS_ACCESS_KEY_ID).
    #[arg(long, global = true, env = "SONDE_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// S3 secret access key (default: AWS_SECRET_ACCESS_KEY).
    #[arg(
        long,
        global = true,
        env = "SONDE_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,
    /// Allow plain-HTTP S3 endpoints.
    #[arg(long, global = true, env = "SONDE_S3_ALLOW_HTTP", value_parser = BoolishValueParser::new())]
    pub s3_allow_http: bool,
}

/// Where a store is when nothing says: `SONDE_DATA_DIR`, else `./sonde-data`.
pub const DEFAULT_DATA_DIR: &str = "./sonde-data";

impl StoreArgs {
    /// `--data-dir`, else `SONDE_DATA_DIR`, else [`DEFAULT_DATA_DIR`]. (The variable is read
    /// here rather than by the flag so that `demo` can take the flag and leave the variable.)
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .or_else(|| std::env::var_os("SONDE_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    /// The store to read, which must exist: a missing one is an error naming the fix.
    pub fn reader_config(&self) -> anyhow::Result<EngineConfig> {
        let mut config = self.engine_config()?;
        config.read_only = true;
        let wal_named = self.wal_dir.is_some()
            || self.data_dir.is_some()
            || std::env::var_os("SONDE_DATA_DIR").is_some();
        if matches!(config.store, StoreLocation::S3 { .. }) && !wal_named {
            // An archive has no WAL: a `./sonde-data/wal` that happens to be here belongs to
            // another store, and its rows must not be read as the archive's.
            config.wal_dir = PathBuf::new();
        }
        if let StoreLocation::Local(dir) = &config.store
            && !dir.is_dir()
        {
            anyhow::bail!(
                "no store at {}: point at one with --data-dir DIR (or SONDE_DATA_DIR) or \
                 --store s3://bucket/prefix, or ask a server with --server HOST:PORT \
                 (`sonde demo` runs one)",
                dir.display()
            );
        }
        Ok(config)
    }

    pub fn engine_config(&self) -> anyhow::Result<EngineConfig> {
        let mut config = EngineConfig::local(self.data_dir());
        if let Some(store) = &self.store {
            config.store = StoreLocation::parse(store)?;
        }
        if let Some(wal) = &self.wal_dir {
            config.wal_dir = wal.clone();
        }
        config.s3 = self.s3_options();
        Ok(config)
    }

    /// The S3 settings of the flags (the `AWS_*` environment fills what they leave unset).
    pub fn s3_options(&self) -> S3Options {
        S3Options {
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
            allow_http: self.s3_allow_http,
        }
    }
}

fn duration(text: &str) -> Result<Duration, String> {
    netql::time::parse_duration(text).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the Arrow Flight endpoint (port 0 picks a free port).
    #[arg(long, env = "SONDE_FLIGHT_ADDR", default_value = "127.0.0.1:50051")]
    pub flight_addr: String,
    /// Flush the memtable to Parquet once it holds this many rows.
    #[arg(long, env = "SONDE_FLUSH_ROWS", default_value_t = 1_000_000)]
    pub flush_rows: usize,
    /// Flush the memtable once its oldest row is this old.
    #[arg(long, env = "SONDE_FLUSH_INTERVAL", default_value = "60s", value_parser = duration)]
    pub flush_interval: Duration,
    /// How often to compact, checkpoint and apply retention.
    #[arg(long, env = "SONDE_MAINTENANCE_INTERVAL", default_value = "5m", value_parser = duration)]
    pub maintenance_interval: Duration,
    /// Drop partitions older than this (e.g. 30d); keep everything when unset.
    #[arg(long, env = "SONDE_RETENTION", value_parser = duration)]
    pub retention: Option<Duration>,
    /// Write a checkpoint once the events since the last one outweigh it this many times.
    #[arg(long, env = "SONDE_CHECKPOINT_FACTOR", default_value_t = 4.0)]
    pub checkpoint_factor: f64,
    #[command(flatten)]
    pub int: IntArgs,
    #[command(flatten)]
    pub flight: FlightArgs,
    #[command(flatten)]
    pub ztp: ZtpArgs,
}

/// Who may call the Flight endpoint, and over what.
#[derive(Debug, Args)]
pub struct FlightArgs {
    /// A token that may only query (analysts, dashboards): SQL, NetQL, Flight SQL, the catalog.
    #[arg(long, env = "SONDE_READ_TOKEN", hide_env_values = true)]
    pub read_token: Option<String>,
    /// A token that may only write (agents): DoPut, and the flush and maintain actions.
    #[arg(long, env = "SONDE_WRITE_TOKEN", hide_env_values = true)]
    pub write_token: Option<String>,
    /// Serve Flight over TLS with this PEM certificate chain (with --tls-key).
    #[arg(long, env = "SONDE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "SONDE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Answer queries from the store without writing to it: no WAL, no flushes, no maintenance,
    /// no listeners that ingest (for an archive in object storage, or another server's store).
    #[arg(long, env = "SONDE_READ_ONLY", value_parser = BoolishValueParser::new())]
    pub read_only: bool,
}

impl FlightArgs {
    /// The endpoint's admission: `--token` (global) may do everything.
    pub fn config(&self, admin_token: Option<String>) -> FlightConfig {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => None,
        };
        FlightConfig {
            tokens: Tokens {
                admin: admin_token,
                read: self.read_token.clone(),
                write: self.write_token.clone(),
            },
            tls,
        }
    }
}

/// The INT collector's sockets and names.
#[derive(Debug, Args)]
pub struct IntArgs {
    /// UDP addresses to receive INT telemetry reports on, comma-separated or repeated; an empty
    /// value turns the receiver off.
    #[arg(
        long,
        env = "SONDE_INT_ADDR",
        value_delimiter = ',',
        default_value = "0.0.0.0:31337"
    )]
    pub int_addr: Vec<String>,
    /// Receive threads per address (the kernel spreads exporters over them).
    #[arg(long, env = "SONDE_INT_THREADS", default_value_t = 1)]
    pub int_threads: usize,
    /// Batches of reports that may wait for the store before new ones are dropped and counted.
    #[arg(long, env = "SONDE_INT_QUEUE", default_value_t = 64)]
    pub int_queue: usize,
    /// Name a drop reason code, CODE=NAME (repeat, or comma-separate); overrides the built-in name.
    #[arg(long, env = "SONDE_INT_DROP_REASON", value_delimiter = ',', value_parser = DropReasons::parse_entry)]
    pub int_drop_reason: Vec<(u8, String)>,
}

impl IntArgs {
    /// The receiver's configuration, or none when it is turned off.
    pub fn config(&self) -> anyhow::Result<Option<IntConfig>> {
        let mut addresses = Vec::new();
        for text in self
            .int_addr
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
        {
            let address = text.parse().map_err(|_| {
                anyhow::anyhow!("--int-addr `{text}`: expected IP:PORT, e.g. 0.0.0.0:31337")
            })?;
            addresses.push(address);
        }
        if addresses.is_empty() {
            return Ok(None);
        }
        let mut config = IntConfig::new(addresses);
        config.threads = self.int_threads.max(1);
        config.queue_batches = self.int_queue.max(1);
        for (code, name) in &self.int_drop_reason {
            config
                .receiver
                .collector
                .drop_reasons
                .name(*code, name.clone());
        }
        Ok(Some(config))
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// INT reports out of a pcap or pcapng capture, stamped with the capture's times.
    #[command(after_help = "Example:\n  sonde import pcap capture.pcapng --port 31337,32766")]
    Pcap(PcapArgs),
}

#[derive(Debug, Args)]
pub struct PcapArgs {
    /// UDP destination ports of the INT reports in the capture (0 takes every UDP datagram).
    #[arg(
        long,
        env = "SONDE_IMPORT_PORT",
        value_delimiter = ',',
        default_value = "31337"
    )]
    pub port: Vec<u16>,
    /// Name a drop reason code, CODE=NAME (repeat, or comma-separate).
    #[arg(long, env = "SONDE_INT_DROP_REASON", value_delimiter = ',', value_parser = DropReasons::parse_entry)]
    pub int_drop_reason: Vec<(u8, String)>,
    /// The capture file.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query, e.g. "SELECT * FROM state_at('bgp', '2026-11-20T10:00:00Z')".
    pub query: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address of the demo's Arrow Flight endpoint (a free port when this one is taken).
    #[arg(
        long,
        env = "SONDE_DEMO_FLIGHT_ADDR",
        default_value = "127.0.0.1:50051"
    )]
    pub flight_addr: String,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// About how many switches: spines, leaves in MLAG pairs, two exits.
    #[arg(long, env = "SONDE_SIMULATE_NODES", default_value_t = 1000)]
    pub nodes: usize,
    /// Days of history, ending at --end.
    #[arg(long, env = "SONDE_SIMULATE_DAYS", default_value_t = 30)]
    pub days: i64,
    /// End of the history (RFC 3339 or µs since the epoch; default: now).
    #[arg(long, env = "SONDE_SIMULATE_END")]
    pub end: Option<String>,
}

/// ZTP's directory and sockets.
#[derive(Debug, Args)]
pub struct ZtpArgs {
    /// Provision switches from this directory (dhcpd.conf, config.db, configs/, images/); ZTP is
    /// off without it.
    #[arg(long, env = "SONDE_ZTP")]
    pub ztp: Option<PathBuf>,
    /// DHCP's UDP address; empty turns DHCP off.
    #[arg(long, env = "SONDE_DHCP_ADDR", default_value = "0.0.0.0:67")]
    pub dhcp_addr: String,
    /// Answer DHCP on this interface only (its limited broadcasts leave by it), as `dhcpd eth0`.
    #[arg(long, env = "SONDE_DHCP_INTERFACE")]
    pub dhcp_interface: Option<String>,
    /// The DHCP server identifier (option 54); by default the address DHCP answers from.
    #[arg(long, env = "SONDE_DHCP_SERVER_ID")]
    pub dhcp_server_id: Option<std::net::Ipv4Addr>,
    /// The image and configuration server's address; empty turns it off.
    #[arg(long, env = "SONDE_ZTP_HTTP_ADDR", default_value = "0.0.0.0:80")]
    pub ztp_http_addr: String,
    /// GELF/UDP address for the devices' own ZTP events; empty turns it off.
    #[arg(long, env = "SONDE_GELF_ADDR", default_value = "0.0.0.0:12201")]
    pub gelf_addr: String,
    /// Installers in an object store too, served after images/: `s3://bucket/prefix` (set up
    /// with the --s3-* flags or the AWS_* environment) or a directory.
    #[arg(long, env = "SONDE_ZTP_IMAGES")]
    pub ztp_images: Option<String>,
}

impl ZtpArgs {
    /// The ZTP listeners' configuration, or none when `--ztp` is not given; `s3` sets up an
    /// `s3://` image store.
    pub fn config(&self, s3: S3Options) -> anyhow::Result<Option<ZtpConfig>> {
        let Some(dir) = &self.ztp else {
            anyhow::ensure!(
                self.ztp_images.is_none(),
                "--ztp-images needs the ZTP directory: --ztp <dir>"
            );
            return Ok(None);
        };
        let image_store = match &self.ztp_images {
            Some(location) => Some(ImageStore {
                location: StoreLocation::parse(location)?,
                s3,
            }),
            None => None,
        };
        Ok(Some(ZtpConfig {
            dir: dir.clone(),
            dhcp_addr: optional_addr("--dhcp-addr", &self.dhcp_addr, "0.0.0.0:67")?,
            dhcp_interface: self.dhcp_interface.clone(),
            server_id: self.dhcp_server_id,
            http_addr: optional_addr("--ztp-http-addr", &self.ztp_http_addr, "0.0.0.0:80")?,
            gelf_addr: optional_addr("--gelf-addr", &self.gelf_addr, "0.0.0.0:12201")?,
            image_store,
        }))
    }
}

fn optional_addr(
    flag: &str,
    text: &str,
    example: &str,
) -> anyhow::Result<Option<std::net::SocketAddr>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| anyhow::anyhow!("{flag} `{text}`: expected IP:PORT, e.g. {example}"))
}

/// `sonde archive …`.
#[derive(Debug, Args)]
pub struct ArchiveCommand {
    #[command(subcommand)]
    pub action: ArchiveAction,
}

#[derive(Debug, Subcommand)]
pub enum ArchiveAction {
    /// Copy the store's closed hours (and their checkpoints) to the archive: resumable, verified,
    /// and a second run copies nothing.
    #[command(
        after_help = "Example:\n  AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ALLOW_HTTP=true sonde archive push --to s3://noc-archive/fabric1 --tables bgp,lldp"
    )]
    Push(ArchiveArgs),
    /// Read every archived file back and check it against its checksum and the store's copy.
    #[command(after_help = "Example:\n  sonde archive verify --to s3://noc-archive/fabric1")]
    Verify(ArchiveArgs),
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The archive: `s3://bucket/prefix` (configured by the --s3-* flags and the AWS_* variables)
    /// or a directory.
    #[arg(long = "to", visible_alias = "archive", env = "SONDE_ARCHIVE")]
    pub to: String,
    /// Only the hours after this: a duration back from now (`30d`) or a time (RFC 3339).
    #[arg(long, env = "SONDE_ARCHIVE_SINCE")]
    pub since: Option<String>,
    /// Only these tables (comma-separated or repeated); every table when unset.
    #[arg(long, env = "SONDE_ARCHIVE_TABLES", value_delimiter = ',')]
    pub tables: Vec<String>,
    /// An hour is closed, and archived, once it ended this long ago (late rows may still come).
    #[arg(long, env = "SONDE_ARCHIVE_SETTLE", default_value = "1h", value_parser = duration)]
    pub settle: Duration,
    /// Files copied or checked at once.
    #[arg(long, env = "SONDE_ARCHIVE_JOBS", default_value_t = 8)]
    pub jobs: usize,
}

/// `sonde ztp …`.
#[derive(Debug, Args)]
pub struct ZtpCommand {
    #[command(subcommand)]
    pub action: ZtpAction,
}

#[derive(Debug, Subcommand)]
pub enum ZtpAction {
    /// Serve ZTP (DHCP, HTTP, GELF) over a store, without the INT receiver.
    #[command(
        after_help = "Example:\n  sonde ztp serve --ztp ./ztp --dhcp-addr 0.0.0.0:67 --ztp-http-addr 0.0.0.0:80"
    )]
    Serve(Box<ZtpServeArgs>),
    /// The installers under images/.
    #[command(
        after_help = "Examples:\n  sonde ztp images --ztp ./ztp add onie-installer-x86_64.bin\n  sonde ztp images --ztp ./ztp list"
    )]
    Images(ZtpImagesArgs),
    /// The configuration files under configs/.
    #[command(
        after_help = "Examples:\n  sonde ztp configs --ztp ./ztp add leaf01.conf\n  sonde ztp configs --ztp ./ztp remove leaf01.conf"
    )]
    Configs(ZtpConfigsArgs),
    /// Map a serial number to its configurations and image in config.db.
    #[command(
        after_help = "Example:\n  sonde ztp map SERIAL1 --ztp ./ztp --startup leaf01.conf --image onie-installer.bin --mac 44:38:39:00:00:01"
    )]
    Map(ZtpMapArgs),
    /// Remove a serial number from config.db.
    #[command(after_help = "Example:\n  sonde ztp unmap SERIAL1 --ztp ./ztp")]
    Unmap(ZtpUnmapArgs),
    /// The serials config.db knows, with their files.
    #[command(after_help = "Example:\n  sonde ztp serials --ztp ./ztp")]
    Serials(ZtpDirArgs),
    /// The leases held now (`show ztp leases` over the store).
    #[command(after_help = "Example:\n  sonde --server 127.0.0.1:50051 ztp leases --json")]
    Leases,
    /// Every device seen, with what it fetched and when (`show ztp devices`).
    #[command(after_help = "Example:\n  sonde --data-dir ./sonde-data ztp devices")]
    Devices,
}

#[derive(Debug, Args)]
pub struct ZtpServeArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// The ZTP directory an admin command edits.
#[derive(Debug, Args)]
pub struct ZtpDirArgs {
    /// The ZTP directory.
    #[arg(long, env = "SONDE_ZTP", default_value = ".")]
    pub ztp: PathBuf,
}

#[derive(Debug, Args)]
pub struct ZtpImagesArgs {
    #[command(flatten)]
    pub dir: ZtpDirArgs,
    #[command(subcommand)]
    pub action: ZtpFilesAction,
}

#[derive(Debug, Args)]
pub struct ZtpConfigsArgs {
    #[command(flatten)]
    pub dir: ZtpDirArgs,
    #[command(subcommand)]
    pub action: ZtpFilesAction,
}

#[derive(Debug, Subcommand)]
pub enum ZtpFilesAction {
    /// Copy a file in (atomically), under its own name or `--name`.
    Add {
        file: PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
    /// List the files with size, time and SHA-1.
    List,
    /// Remove a file.
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct ZtpMapArgs {
    #[command(flatten)]
    pub dir: ZtpDirArgs,
    /// The switch's serial number (ONIE-SERIAL-NUMBER).
    pub serial: String,
    /// Startup configuration file under configs/ (`/ztp/config/startup`).
    #[arg(long)]
    pub startup: Option<String>,
    /// CTRLD configuration (`/ztp/config/ctrld`).
    #[arg(long)]
    pub ctrld: Option<String>,
    /// CTRLD RBAC policy (`/ztp/config/ctrldrbac`).
    #[arg(long)]
    pub ctrldrbac: Option<String>,
    /// Element configuration (`/ztp/config/element`).
    #[arg(long)]
    pub element: Option<String>,
    /// Installer: a URL, or a file under images/ (`/ztp/image`).
    #[arg(long)]
    pub image: Option<String>,
    /// Only the device whose lease has this MAC gets this serial's files.
    #[arg(long)]
    pub mac: Option<String>,
    /// Cumulus ZTP script under configs/ (`/ztp/script`).
    #[arg(long)]
    pub script: Option<String>,
}

#[derive(Debug, Args)]
pub struct ZtpUnmapArgs {
    #[command(flatten)]
    pub dir: ZtpDirArgs,
    pub serial: String,
}
