//! End-to-end ingest: Flight DoPut → WAL (group commit + fsync) → memtable → Parquet, on a synthetic
//! BGP + interface event stream, beside the bare Parquet encoding of the same rows in the same run.
//!
//! `cargo bench --bench ingest [-- ROWS]` (default 10M rows).

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use arrow::array::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::{FlightClient, FlightDescriptor};
use futures::StreamExt;
use sonde_engine::{Engine, EngineConfig};
use sonde_server::FlightServer;

use common::{BgpEvent, HOUR, T0};

const BATCH_ROWS: usize = 8192;

fn bgp_stream(rows: usize) -> Vec<RecordBatch> {
    let mut rng = common::Lcg::new(7);
    (0..rows.div_ceil(BATCH_ROWS))
        .map(|b| {
            let events: Vec<BgpEvent> = (0..BATCH_ROWS)
                .map(|i| {
                    let n = (b * BATCH_ROWS + i) as i64;
                    BgpEvent {
                        ts: T0 + n * 1_000,
                        session: rng.below(32_768) as u32,
                        established: rng.below(10) > 0,
                        active: true,
                    }
                })
                .collect();
            common::bgp_batch(&events)
        })
        .collect()
}

fn interface_stream(rows: usize) -> Vec<RecordBatch> {
    (0..rows.div_ceil(BATCH_ROWS))
        .map(|b| common::interfaces_batch(T0 + 2 * HOUR, (b * BATCH_ROWS) as u64, BATCH_ROWS))
        .collect()
}

async fn send(addr: String, table: &'static str, batches: Vec<RecordBatch>) -> usize {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    let mut client = FlightClient::new(channel);
    let data = FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(FlightDescriptor::new_path(vec![table.into()])))
        .build(futures::stream::iter(batches.into_iter().map(Ok)));
    let mut acks = client.do_put(data).await.expect("DoPut");
    let mut acked = 0;
    while let Some(ack) = acks.next().await {
        ack.expect("acknowledged");
        acked += 1;
    }
    acked
}

fn parquet_baseline(batches: &[RecordBatch]) -> f64 {
    let table = sonde_schema::table("bgp").expect("bgp");
    let start = Instant::now();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .set_max_row_group_row_count(Some(100_000))
        .build();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(std::io::sink(), table.schema(), Some(props))
            .expect("writer");
    for batch in batches {
        writer.write(batch).expect("write");
    }
    writer.close().expect("close");
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    rows as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "generating {rows} synthetic rows (half BGP, half interfaces) in {BATCH_ROWS}-row batches…"
    );
    let bgp = bgp_stream(rows / 2);
    let interfaces = interface_stream(rows / 2);
    let total: usize = bgp.iter().chain(&interfaces).map(|b| b.num_rows()).sum();

    let dir = tempfile::tempdir().expect("tempdir");
    let (ingest_rate, flight_rate, stats) = runtime.block_on(async {
        let engine = Engine::open(EngineConfig::local(dir.path()))
            .await
            .expect("engine");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(FlightServer::new(engine.clone(), Default::default()).run(
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        let background = {
            let engine = engine.clone();
            tokio::spawn(async move { engine.run_background(std::future::pending()).await })
        };
        let start = Instant::now();
        let (a, b) = tokio::join!(
            send(addr.clone(), "bgp", bgp),
            send(addr, "interfaces", interfaces)
        );
        let acked = start.elapsed();
        engine.flush().await.expect("final flush");
        let done = start.elapsed();
        assert!(a + b > 0);
        background.abort();
        let _ = stop.send(());
        let _ = server.await;
        let bgp = engine.table_stats("bgp").expect("stats");
        let ifs = engine.table_stats("interfaces").expect("stats");
        engine.close().await.expect("close");
        (
            total as f64 / done.as_secs_f64(),
            total as f64 / acked.as_secs_f64(),
            (
                bgp.event_bytes + ifs.event_bytes,
                bgp.event_files + ifs.event_files,
            ),
        )
    });
    let sample = bgp_stream(1_000_000);
    let baseline = parquet_baseline(&sample);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!();
    println!("rows                                   {total}");
    println!(
        "acknowledged (durable in WAL) rate     {:>10.0} rows/s",
        flight_rate
    );
    println!(
        "end to end incl. Parquet flush         {:>10.0} rows/s   ({:.0} rows/s per core, {cores} cores)",
        ingest_rate,
        ingest_rate / cores as f64
    );
    println!(
        "bare ArrowWriter ZSTD, same BGP rows   {:>10.0} rows/s   (one core, no WAL, no network)",
        baseline
    );
    println!(
        "ratio end-to-end / bare Parquet         {:>9.2}",
        ingest_rate / baseline
    );
    println!(
        "Parquet written                        {} files, {:.1} MiB",
        stats.1,
        stats.0 as f64 / (1 << 20) as f64
    );
}
