//! `sonde sql`: one query over a store, read-only, printed as a table or JSON.

use std::process::ExitCode;

use anyhow::Context;
use sonde_engine::Engine;

use crate::cli::{QueryArgs, SqlArgs};
use crate::query::sql_remote;

pub async fn run(args: SqlArgs, global: QueryArgs) -> anyhow::Result<ExitCode> {
    let batches = match &global.server {
        Some(_) => sql_remote(&global, &args.query).await?,
        None => {
            let engine = Engine::open(global.store.reader_config()?)
                .await
                .context("cannot open the store")?;
            let frame = engine.sql(&args.query).await?;
            engine.collect(frame.into_unoptimized_plan()).await?
        }
    };
    let text = if global.json {
        netql::output::json_rows(&batches)?
    } else {
        netql::output::aligned_table(&batches)?
    };
    crate::out::print(&text)?;
    if global.json {
        crate::out::print("\n")?;
    }
    Ok(ExitCode::SUCCESS)
}
