//! The `sonde` binary: the server, the demo, NetQL one-shot and REPL front ends, `sonde sql`
//! `sonde simulate` and `sonde import`.

mod cli;
mod demo;
mod import;
mod query;
mod repl;
mod serve;
mod simulate;
mod sql;
mod ztp;

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
        Some(cli::Command::Demo(args)) => demo::run(args).await,
        Some(cli::Command::Serve(args)) => serve::run(*args).await,
        Some(cli::Command::Simulate(args)) => simulate::run(args).await,
        Some(cli::Command::Sql(args)) => sql::run(args).await,
        Some(cli::Command::Import(args)) => import::run(args).await,
        Some(cli::Command::Ztp(command)) => ztp::run(command).await,
        Some(cli::Command::Netql(words)) => query::run(cli.query, words).await,
        None => repl::run(cli.query).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("sonde: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
