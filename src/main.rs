//! The `sonde` binary: the server and the command-line front ends of the event store.

mod cli;
mod serve;
mod sql;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SONDE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        cli::Command::Serve(args) => serve::run(args).await,
        cli::Command::Sql(args) => sql::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("sonde: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
