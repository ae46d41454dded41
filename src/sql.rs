//! `sonde sql`: one query over a store, read-only, printed as a table or JSON.

use std::process::ExitCode;

use anyhow::Context;
use sonde_engine::Engine;

use crate::cli::SqlArgs;

pub async fn run(args: SqlArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.store.engine_config()?;
    config.read_only = true;
    let engine = Engine::open(config)
        .await
        .context("cannot open the store")?;
    let batches = engine.sql(&args.query).await?.collect().await?;
    let text = if args.json {
        netql::output::json_rows(&batches)?
    } else {
        netql::output::aligned_table(&batches)?
    };
    print!("{text}");
    if args.json {
        println!();
    }
    Ok(ExitCode::SUCCESS)
}
