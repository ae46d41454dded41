//! The `sonde` binary: the server, the demo, NetQL one-shot and REPL front ends, `sonde sql`
//! `sonde simulate`, `sonde import`, `sonde ztp` and `sonde archive`.

mod archive;
mod cli;
mod demo;
mod import;
mod out;
mod query;
mod repl;
mod serve;
mod simulate;
mod sql;
mod ztp;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SONDE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let global = cli.query;
    let result = match cli.command {
        Some(cli::Command::Demo(args)) => demo::run(args, global).await,
        Some(cli::Command::Serve(args)) => serve::run(*args, global).await,
        Some(cli::Command::Simulate(args)) => simulate::run(args, global).await,
        Some(cli::Command::Sql(args)) => sql::run(args, global).await,
        Some(cli::Command::Import(args)) => import::run(args, global).await,
        Some(cli::Command::Ztp(command)) => ztp::run(command, global).await,
        Some(cli::Command::Archive(command)) => archive::run(command, global).await,
        Some(cli::Command::Netql(words)) => query::run(global, words).await,
        None => repl::run(global).await,
    };
    match result {
        Ok(code) => code,
        Err(error) if out::is_closed_pipe(&error) => ExitCode::from(out::CLOSED_PIPE_STATUS),
        Err(error) => {
            eprintln!("sonde: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
