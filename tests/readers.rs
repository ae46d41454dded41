//! Outside readers (DuckDB and pyarrow from PyPI) read the partition tree as written.

use sonde_engine::{Engine, EngineConfig};

use crate::common::{Bgp, HOUR, T0, bgp_batch, python};

const DUCKDB: &str = r#"
import duckdb, json, sys
root = sys.argv[1]
rows = duckdb.connect().execute(f"""
    SELECT count(*), sum(asn), count(DISTINCT peer), min(epoch_us(timestamp)), max(epoch_us(timestamp)),
           count(*) FILTER (WHERE NOT active), count(DISTINCT hour)
    FROM read_parquet('{root}/bgp/**/*.parquet', hive_partitioning = true)
""").fetchone()
print(json.dumps([int(v) for v in rows]))
"#;

const PYARROW: &str = r#"
import json, sys
import pyarrow.dataset as ds
import pyarrow.compute as pc
table = ds.dataset(sys.argv[1] + "/bgp", format="parquet", partitioning="hive").to_table()
ts = pc.cast(table["timestamp"], "int64")
print(json.dumps([table.num_rows, pc.sum(table["asn"]).as_py(), len(pc.unique(table["peer"])),
                  pc.min(ts).as_py(), pc.max(ts).as_py(), pc.sum(pc.invert(table["active"])).as_py(),
                  len(pc.unique(table["hour"]))]))
meta = ds.dataset(sys.argv[1] + "/bgp", format="parquet", partitioning="hive").files
import pyarrow.parquet as pq
f = pq.ParquetFile(meta[0])
print(json.dumps({"sorting": [c.column_index for c in f.metadata.row_group(0).sorting_columns],
                  "codec": f.metadata.row_group(0).column(0).compression}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_and_pyarrow_read_the_tree_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Engine::open(EngineConfig::local(dir.path()))
        .await
        .expect("opens");
    let rows: Vec<Bgp> = (0..3000i64)
        .map(|i| {
            Bgp::new(
                T0 + (i % 6) * HOUR + i,
                &format!("leaf{:02}", i % 4),
                &format!("swp{i}"),
                "Established",
                65000 + (i % 50) as u32,
                i % 7 != 0,
            )
        })
        .collect();
    for part in rows.chunks(700) {
        engine
            .append("bgp", &bgp_batch(part))
            .await
            .expect("append");
    }
    engine.flush().await.expect("flush");
    engine
        .append("bgp", &bgp_batch(&rows[..10]))
        .await
        .expect("append");
    engine.flush().await.expect("second flush");
    engine.maintain().await.expect("compaction");

    let ours = engine
        .sql(
            "SELECT count(*), sum(asn), count(DISTINCT peer), min(CAST(timestamp AS BIGINT)), max(CAST(timestamp AS BIGINT)), \
             sum(CASE WHEN active THEN 0 ELSE 1 END), count(DISTINCT date_trunc('hour', timestamp)) FROM bgp",
        )
        .await
        .expect("plans")
        .collect()
        .await
        .expect("runs");
    let ours: Vec<i64> = ours[0]
        .columns()
        .iter()
        .map(|c| {
            let c = arrow::compute::cast(c, &arrow::datatypes::DataType::Int64)
                .expect("integer figures");
            c.as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .expect("int64")
                .value(0)
        })
        .collect();
    assert_eq!(ours[0], 3010, "3000 rows plus 10 written again");

    let root = dir.path().to_str().expect("utf-8");
    let duck: Vec<i64> = serde_json::from_str(python(DUCKDB, &[root]).trim()).expect("duckdb json");
    assert_eq!(duck, ours, "DuckDB reads what Sonde reads");
    let out = python(PYARROW, &[root]);
    let mut lines = out.lines();
    let arrow_figures: Vec<i64> =
        serde_json::from_str(lines.next().expect("figures")).expect("pyarrow json");
    assert_eq!(arrow_figures, ours, "pyarrow reads what Sonde reads");
    let footer: serde_json::Value =
        serde_json::from_str(lines.next().expect("footer")).expect("footer json");
    assert_eq!(
        footer["sorting"],
        serde_json::json!([1, 2, 3, 0]),
        "sorted by hostname, vrf, peer, timestamp"
    );
    assert_eq!(footer["codec"], "ZSTD");
}
