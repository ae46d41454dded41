//! The Flight endpoint: tokens, table listing, DoGet, and the final flush on SIGTERM.

use arrow_flight::FlightDescriptor;
use futures::TryStreamExt;

use crate::common::{Bgp, Server, T0, bgp_batch, flight_sql, put, sonde};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_required_when_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &["--token", "s3cret"]);
    let batch = bgp_batch(&[Bgp::new(T0, "spine01", "swp1", "Established", 65020, true)]);

    let mut anonymous = server.client(None).await;
    let refused = put(&mut anonymous, "bgp", batch.clone())
        .await
        .expect_err("no token, no write");
    assert!(refused.contains("token"), "{refused}");
    let mut wrong = server.client(Some("guess")).await;
    assert!(
        flight_sql(&mut wrong, "SELECT 1").await.is_err(),
        "a wrong token cannot read"
    );

    let mut client = server.client(Some("s3cret")).await;
    assert_eq!(put(&mut client, "bgp", batch).await.expect("accepted"), 1);
    let rows = flight_sql(&mut client, "SELECT count(*) FROM bgp")
        .await
        .expect("reads");
    assert_eq!(
        rows[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .expect("count")
            .value(0),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_tables_and_flushes_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[]);
    let mut client = server.client(None).await;

    let infos: Vec<_> = client
        .list_flights("")
        .await
        .expect("lists")
        .try_collect()
        .await
        .expect("lists");
    let names: Vec<String> = infos
        .iter()
        .filter_map(|i| i.flight_descriptor.as_ref())
        .map(|d| d.path.join("."))
        .collect();
    for table in [
        "agents",
        "interfaces",
        "bgp",
        "routes",
        "int_reports",
        "ztp_dhcp",
        "events",
    ] {
        assert!(
            names.iter().any(|n| n == table),
            "ListFlights names {table}: {names:?}"
        );
    }
    let schema = client
        .get_schema(FlightDescriptor::new_path(vec!["bgp".into()]))
        .await
        .expect("schema");
    assert!(schema.field_with_name("peer_asn").is_ok());

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
