//! An acknowledged write survives SIGKILL, exactly once.

use arrow_flight::FlightDescriptor;
use arrow_flight::encode::FlightDataEncoderBuilder;
use futures::StreamExt;

use crate::common::{Bgp, HOUR, Server, T0, bgp_batch, flight_sql};

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
