//! Bad input gets a clear error, and nothing acknowledged is lost.

use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow_flight::FlightDescriptor;
use arrow_flight::encode::FlightDataEncoderBuilder;
use futures::StreamExt;
use sonde_engine::{Engine, EngineConfig, EngineError};

use crate::common::{Bgp, T0, TestServer, bgp_batch, bgp_rows, flight_sql};

fn with_column_replaced(
    batch: &RecordBatch,
    name: &str,
    column: Arc<dyn arrow::array::Array>,
    ty: DataType,
) -> RecordBatch {
    let schema = batch.schema();
    let index = schema.index_of(name).expect("column exists");
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[index] = Field::new(name, ty, true);
    let mut columns = batch.columns().to_vec();
    columns[index] = column;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("valid batch")
}

fn put_stream(table: &str, batch: RecordBatch) -> arrow_flight::encode::FlightDataEncoder {
    FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(FlightDescriptor::new_path(vec![table.into()])))
        .build(futures::stream::iter([Ok(batch)]))
}

fn rows(n: usize, offset: usize) -> Vec<Bgp> {
    (0..n)
        .map(|i| {
            Bgp::new(
                T0 + (offset + i) as i64,
                "leaf01",
                &format!("p{}", offset + i),
                "Established",
                65011,
                true,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_schema_and_unknown_table_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(dir.path(), None).await;
    let mut client = server.client(None).await;

    let good = bgp_batch(&rows(5, 0));
    let bad = with_column_replaced(
        &good,
        "asn",
        Arc::new(StringArray::from(vec!["x"; 5])),
        DataType::Utf8,
    );
    let acks: Vec<_> = client
        .do_put(put_stream("bgp", good.clone()))
        .await
        .expect("starts")
        .collect()
        .await;
    assert!(
        acks.iter().all(Result::is_ok) && acks.len() == 1,
        "the good batch is acknowledged: {acks:?}"
    );
    let answers: Vec<_> = client
        .do_put(put_stream("bgp", bad))
        .await
        .expect("starts")
        .collect()
        .await;
    let error = answers
        .iter()
        .find_map(|a| a.as_ref().err())
        .unwrap_or_else(|| panic!("the bad batch is refused: {answers:?}"))
        .to_string();
    assert!(
        error.contains("`asn`") && error.contains("UInt32"),
        "names the column and type: {error}"
    );

    let error = match client.do_put(put_stream("bgpp", good)).await {
        Ok(stream) => stream
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .find_map(Result::err)
            .expect("refused")
            .to_string(),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("unknown table `bgpp`"), "{error}");

    let stored = flight_sql(&mut client, "SELECT * FROM bgp")
        .await
        .expect("query");
    assert_eq!(
        bgp_rows(&stored),
        rows(5, 0),
        "nothing else lost, nothing half-written"
    );
    let error = flight_sql(&mut client, "SELECT nope FROM bgp")
        .await
        .expect_err("bad query")
        .to_string();
    assert!(error.contains("nope"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_refuses_missing_keys_and_extra_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("opens");
    let good = bgp_batch(&rows(3, 0));
    let without_peer = good.project(&[0, 1, 2, 4, 5, 6]).expect("projection");
    match engine.append("bgp", &without_peer).await {
        Err(EngineError::Schema(e)) => assert!(e.to_string().contains("`peer` is required"), "{e}"),
        other => panic!("expected a schema error, got {other:?}"),
    }
    let extra = with_column_replaced(
        &good,
        "state",
        Arc::new(StringArray::from(vec!["x"; 3])),
        DataType::Utf8,
    );
    let renamed = RecordBatch::try_new(
        Arc::new(Schema::new(
            extra
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    if f.name() == "state" {
                        Field::new("colour", DataType::Utf8, true)
                    } else {
                        f.as_ref().clone()
                    }
                })
                .collect::<Vec<_>>(),
        )),
        extra.columns().to_vec(),
    )
    .expect("valid");
    let error = engine
        .append("bgp", &renamed)
        .await
        .expect_err("unknown column")
        .to_string();
    assert!(error.contains("unknown column `colour`"), "{error}");
    assert!(matches!(
        engine.append("nosuch", &good).await,
        Err(EngineError::UnknownTable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_wal_tail_recovers_the_intact_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let engine = Engine::open(EngineConfig::local(dir.path()))
            .await
            .expect("opens");
        for i in 0..4 {
            engine
                .append("bgp", &bgp_batch(&rows(10, i * 10)))
                .await
                .expect("append");
        }
        // Dropped without close: the rows live only in the WAL, as after a crash.
    }
    let wal = dir.path().join("wal");
    let segment = std::fs::read_dir(&wal)
        .expect("wal dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "wal"))
        .expect("a segment");
    let bytes = std::fs::read(&segment).expect("read");
    // Cut the last record in half, as a crash mid-write would.
    std::fs::write(&segment, &bytes[..bytes.len() - 40]).expect("truncate");

    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("recovers");
    let stored = engine
        .sql("SELECT * FROM bgp")
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    assert_eq!(
        bgp_rows(&stored),
        rows(30, 0),
        "the three intact records, the torn one dropped"
    );
    engine
        .append("bgp", &bgp_batch(&rows(10, 100)))
        .await
        .expect("writes continue");
    engine.close().await.expect("close");
    drop(engine);

    // Garbage after valid records is dropped too, and a full restart still finds everything.
    let segment = wal.join("000000000099.wal");
    std::fs::write(&segment, b"SNDWAL01\x10\x00\x00\x00garbage-garbage-garbage").expect("write");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("recovers");
    let stored = engine
        .sql("SELECT count(*) AS n FROM bgp")
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    assert!(
        arrow::util::pretty::pretty_format_batches(&stored)
            .expect("fmt")
            .to_string()
            .contains("| 40 ")
    );
}
