//! `sonde serve` as a process: an acknowledged write survives SIGKILL exactly once, a resent
//! batch is stored once even across a crash, and SIGTERM flushes the memtable to Parquet.

use arrow_flight::FlightDescriptor;
use arrow_flight::encode::FlightDataEncoderBuilder;
use futures::{StreamExt, TryStreamExt};

use crate::common::{Bgp, HOUR, Server, T0, bgp_batch, flight_sql, put, sonde};

const ROWS_PER_BATCH: usize = 500;

fn numbered_batch(n: usize) -> arrow::array::RecordBatch {
    let rows: Vec<Bgp> = (0..ROWS_PER_BATCH)
        .map(|i| {
            // Spread over several hours so flushes write several partitions.
            let ts = T0 + (n as i64 % 5) * HOUR + i as i64;
            Bgp::new(
                ts,
                &format!("leaf{:02}", i % 8),
                &format!("b{n}-r{i}"),
                "Established",
                n as u32,
                true,
            )
        })
        .collect();
    bgp_batch(&rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_rows_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Small flushes so that the kill lands among flushes, WAL rotations and partial files.
    let mut server = Server::start(
        dir.path(),
        &["--flush-rows", "3000", "--flush-interval", "1s"],
    );
    let mut client = server.client(None).await;

    let batches = futures::stream::iter(0..)
        .map(|n| Ok(numbered_batch(n)))
        .take(100_000);
    let data = FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(FlightDescriptor::new_path(vec!["bgp".into()])))
        .build(batches);
    let mut acks = client.do_put(data).await.expect("DoPut starts");

    let mut acked = 0usize;
    while let Some(ack) = acks.next().await {
        match ack {
            Ok(_) => acked += 1,
            Err(_) => break,
        }
        if acked == 60 {
            server.kill();
        }
    }
    assert!(
        acked >= 60,
        "the server acknowledged {acked} batches before dying"
    );

    let server = Server::start(dir.path(), &[]);
    let mut client = server.client(None).await;
    let query = format!(
        "SELECT count(*) AS rows, count(DISTINCT peer) AS peers FROM bgp WHERE asn < {acked}"
    );
    let result = flight_sql(&mut client, &query).await.expect("query runs");
    let rows = arrow::util::pretty::pretty_format_batches(&result)
        .expect("formats")
        .to_string();
    let expected = acked * ROWS_PER_BATCH;
    assert!(
        rows.contains(&format!("| {expected} | {expected} ")),
        "every acknowledged row exactly once ({expected} rows expected):\n{rows}"
    );
    let duplicates = flight_sql(
        &mut client,
        "SELECT peer FROM bgp GROUP BY peer HAVING count(*) > 1",
    )
    .await
    .expect("query runs");
    assert_eq!(
        duplicates.iter().map(|b| b.num_rows()).sum::<usize>(),
        0,
        "no row stored twice"
    );
    assert!(server.stop().success(), "clean shutdown after recovery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_flushes_to_parquet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[]);
    let mut client = server.client(None).await;

    let rows: Vec<Bgp> = (0..10)
        .map(|i| {
            Bgp::new(
                T0 + i,
                "leaf01",
                &format!("swp{i}"),
                "Established",
                65011,
                true,
            )
        })
        .collect();
    assert_eq!(
        put(&mut client, "bgp", bgp_batch(&rows))
            .await
            .expect("accepted"),
        1
    );
    assert!(server.stop().success());

    let files: Vec<_> = walk(&dir.path().join("bgp"));
    assert!(
        files.iter().any(|f| f.ends_with(".parquet")),
        "SIGTERM flushed to Parquet: {files:?}"
    );
    let wal_segments = walk(&dir.path().join("wal"))
        .into_iter()
        .filter(|f| f.ends_with(".wal"))
        .count();
    assert!(wal_segments <= 1, "flushed segments are retired");

    let out = sonde(&[
        "sql",
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "SELECT hostname, count(*) AS n FROM bgp GROUP BY hostname",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["leaf01", "10"]),
        "{text}"
    );
    let json = sonde(&[
        "sql",
        "--json",
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "SELECT timestamp, peer FROM bgp ORDER BY peer LIMIT 1",
    ]);
    let json = String::from_utf8_lossy(&json.stdout);
    assert!(
        json.contains(&format!("\"timestamp\":{T0}")),
        "JSON timestamps are µs: {json}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

/// DoPut of one batch numbered `seq` by `source` (app_metadata), returning the acks' metadata.
async fn put_numbered(
    client: &mut arrow_flight::FlightClient,
    batch: &arrow::array::RecordBatch,
    source: &str,
    seq: u64,
) -> Vec<serde_json::Value> {
    let mut data =
        arrow_flight::utils::batches_to_flight_data(&batch.schema(), vec![batch.clone()])
            .expect("encodes");
    data[0].flight_descriptor = Some(FlightDescriptor::new_path(vec!["bgp".into()]));
    data[1].app_metadata = serde_json::json!({"source": source, "seq": seq})
        .to_string()
        .into();
    let acks: Vec<_> = client
        .do_put(futures::stream::iter(data.into_iter().map(Ok)))
        .await
        .expect("DoPut")
        .try_collect()
        .await
        .expect("acks");
    acks.iter()
        .map(|a| serde_json::from_slice(&a.app_metadata).expect("ack metadata is JSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_batch_is_stored_once_even_after_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = bgp_batch(&[Bgp::new(T0, "leaf01", "swp51", "Established", 65011, true)]);
    let count = "SELECT count(*) AS n FROM bgp";
    let stored = |rows: Vec<arrow::array::RecordBatch>| {
        arrow::util::pretty::pretty_format_batches(&rows)
            .expect("formats")
            .to_string()
    };

    let mut server = Server::start(dir.path(), &[]);
    let mut client = server.client(None).await;
    let first = put_numbered(&mut client, &batch, "leaf01/a", 1).await;
    assert_eq!(first[0]["rows"], 1);
    assert_eq!(first[0]["seq"], 1);
    let again = put_numbered(&mut client, &batch, "leaf01/a", 1).await;
    assert_eq!(
        again[0]["rows"], 0,
        "the same number again is acknowledged, not stored"
    );
    let other = put_numbered(&mut client, &batch, "leaf02/b", 1).await;
    assert_eq!(other[0]["rows"], 1, "numbers belong to their source");
    server.kill();

    let server = Server::start(dir.path(), &[]);
    let mut client = server.client(None).await;
    let after_crash = put_numbered(&mut client, &batch, "leaf01/a", 1).await;
    assert_eq!(after_crash[0]["rows"], 0, "the WAL remembers what it holds");
    let next = put_numbered(&mut client, &batch, "leaf01/a", 2).await;
    assert_eq!(next[0]["rows"], 1);
    let rows = flight_sql(&mut client, count).await.expect("reads");
    assert!(stored(rows).contains("| 3 |"), "three batches stored");
    server.stop();

    // After a clean stop the WAL's segments were flushed and retired; the new segment still
    // starts with what every source sent.
    let server = Server::start(dir.path(), &[]);
    let mut client = server.client(None).await;
    let after_flush = put_numbered(&mut client, &batch, "leaf01/a", 2).await;
    assert_eq!(after_flush[0]["rows"], 0);
    let rows = flight_sql(&mut client, count).await.expect("reads");
    assert!(stored(rows).contains("| 3 |"));
}
