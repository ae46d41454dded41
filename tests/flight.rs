//! The Flight endpoint of the server in this process: tokens, table listing and schemas, DoPut
//! and DoGet. The tests of the `sonde serve` process (SIGKILL, SIGTERM) are in `crash`.

use arrow_flight::FlightDescriptor;
use futures::TryStreamExt;

use crate::common::{Bgp, T0, TestServer, bgp_batch, flight_sql, put};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_required_when_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(dir.path(), Some("s3cret")).await;
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
async fn lists_tables_and_their_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(dir.path(), None).await;
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
}
