//! `sonde-agent`: streams this node's network state to one or more `sonde serve` servers.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::builder::BoolishValueParser;
use sonde_ingest::agent::command::Tool;
use sonde_ingest::agent::run::{AgentConfig, run};

/// Streams a switch's or host's state (netlink, FRR, lldpd, NTP, sensors, services, inventory)
/// to Sonde servers as changes, spooling to disk while no server answers.
#[derive(Debug, Parser)]
#[command(name = "sonde-agent", version)]
struct Args {
    /// Server to send to (host:port or http://host:port); repeat to send everything to several.
    #[arg(
        long = "server",
        env = "SONDE_SERVER",
        value_delimiter = ',',
        required = true
    )]
    servers: Vec<String>,
    /// Token the servers expect (`sonde serve --token`).
    #[arg(long, env = "SONDE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// File holding the token, instead of --token.
    #[arg(long, env = "SONDE_TOKEN_FILE", conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// Name this node reports; defaults to the kernel's hostname.
    #[arg(long, env = "SONDE_HOSTNAME")]
    hostname: Option<String>,
    /// Directory of the on-disk queue that holds changes until every server has them.
    #[arg(
        long,
        env = "SONDE_SPOOL_DIR",
        default_value = "/var/lib/sonde-agent/spool"
    )]
    spool_dir: PathBuf,
    /// Upper bound of the queue in MiB; past it the oldest batches are dropped (and counted).
    #[arg(long, env = "SONDE_SPOOL_MAX_MB", default_value_t = 1024)]
    spool_max_mb: u64,
    /// Seconds between full resyncs, which find what notifications missed.
    #[arg(long, env = "SONDE_RESYNC_INTERVAL", default_value_t = 15.0)]
    resync_interval: f64,
    /// Seconds between heartbeats; three missed make the server show the agent Rotten.
    #[arg(long, env = "SONDE_HEARTBEAT_INTERVAL", default_value_t = 30.0)]
    heartbeat_interval: f64,
    /// Milliseconds changes gather before they are sent as one batch per table.
    #[arg(long, env = "SONDE_BATCH_MS", default_value_t = 100)]
    batch_ms: u64,
    /// Command line of vtysh (e.g. "vtysh -N leaf01"); "" to skip FRR.
    #[arg(long, env = "SONDE_VTYSH", default_value = "vtysh")]
    vtysh: String,
    /// Command line of lldpcli (e.g. "lldpcli -u /run/lldpd.socket"); "" to skip LLDP.
    #[arg(long, env = "SONDE_LLDPCLI", default_value = "lldpcli")]
    lldpcli: String,
    /// Command line of chronyc; "" to skip NTP.
    #[arg(long, env = "SONDE_CHRONYC", default_value = "chronyc")]
    chronyc: String,
    /// Do not read the kernel's state through netlink (SONDE_NO_NETLINK: true/false, 1/0, yes/no).
    #[arg(long, env = "SONDE_NO_NETLINK", value_parser = BoolishValueParser::new())]
    no_netlink: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SONDE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = match config(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("sonde-agent: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sonde-agent: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sonde-agent: {e}");
            ExitCode::FAILURE
        }
    }
}

fn config(args: Args) -> Result<AgentConfig, String> {
    let token = match (&args.token, &args.token_file) {
        (Some(token), _) => token.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .trim()
            .to_string(),
        (None, None) => {
            return Err("a token is required: --token, SONDE_TOKEN or --token-file".into());
        }
    };
    let hostname = match args.hostname {
        Some(name) => name,
        None => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map_err(|e| format!("cannot read the hostname: {e}"))?
            .trim()
            .to_string(),
    };
    let seconds = |s: f64, what: &str| {
        (s.is_finite() && s > 0.0)
            .then(|| Duration::from_secs_f64(s))
            .ok_or_else(|| format!("{what} must be a positive number of seconds"))
    };
    let present = |line: &str| Tool::parse(line).filter(Tool::exists);
    Ok(AgentConfig {
        servers: args.servers.iter().map(|s| endpoint(s)).collect(),
        token,
        hostname,
        spool_dir: args.spool_dir,
        spool_max_bytes: args.spool_max_mb.saturating_mul(1 << 20),
        resync_interval: seconds(args.resync_interval, "--resync-interval")?,
        heartbeat_interval: seconds(args.heartbeat_interval, "--heartbeat-interval")?,
        batch_delay: Duration::from_millis(args.batch_ms.max(1)),
        netlink: !args.no_netlink,
        vtysh: present(&args.vtysh),
        lldpcli: present(&args.lldpcli),
        chronyc: present(&args.chronyc),
    })
}

/// `host:port` → `http://host:port`.
fn endpoint(server: &str) -> String {
    if server.contains("://") {
        server.to_string()
    } else {
        format!("http://{server}")
    }
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return tokio::signal::ctrl_c().await.unwrap_or_default(),
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
