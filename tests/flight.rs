//! The Flight endpoint of the server in this process: tokens, table listing and schemas, DoPut
//! and DoGet. The tests of the `sonde serve` process (SIGKILL, SIGTERM) are in `crash`.

use arrow_flight::FlightDescriptor;
use futures::TryStreamExt;
use sonde_engine::EngineConfig;
use sonde_server::{ServerConfig, Tokens};

use crate::common::{Bgp, Server, T0, TestServer, bgp_batch, flight_sql, put, python, sonde};

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

/// The analyst's clients from PyPI (tests/python/flight_clients.py): ADBC's Flight SQL driver with
/// pandas and pyarrow.flight, against a server with separate read and write tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pandas_and_adbc_query_over_flight_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServerConfig::new(EngineConfig::local(dir.path()));
    config.flight.tokens = Tokens {
        admin: None,
        read: Some("analyst-token".into()),
        write: Some("agent-token".into()),
    };
    let server = TestServer::with_config(config).await;
    let rows = [
        Bgp::new(T0, "leaf01", "swp51", "Established", 65101, true),
        Bgp::new(T0 + 1, "leaf01", "swp52", "Idle", 65101, true),
        Bgp::new(T0 + 2, "spine01", "swp1", "Established", 65020, true),
    ];
    let mut analyst = server.client(Some("analyst-token")).await;
    let refused = put(&mut analyst, "bgp", bgp_batch(&rows))
        .await
        .expect_err("a read token cannot write");
    assert!(refused.contains("write"), "{refused}");
    let mut agent = server.client(Some("agent-token")).await;
    assert_eq!(
        put(&mut agent, "bgp", bgp_batch(&rows))
            .await
            .expect("written"),
        1
    );

    let uri = format!("grpc://{}", server.addr);
    let script = include_str!("python/flight_clients.py");
    let seen = python(script, &[&uri, "analyst-token", "agent-token"]);
    let seen: serde_json::Value = serde_json::from_str(&seen).expect("the script prints JSON");
    let records = |key: &str, columns: &[&str]| -> Vec<Vec<serde_json::Value>> {
        seen[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {seen:#}"))
            .iter()
            .map(|row| columns.iter().map(|c| row[*c].clone()).collect())
            .collect()
    };
    use serde_json::json;
    assert_eq!(
        records("sql", &["hostname", "peer", "state", "asn"]),
        [
            vec![
                json!("leaf01"),
                json!("swp51"),
                json!("Established"),
                json!(65101)
            ],
            vec![json!("leaf01"), json!("swp52"), json!("Idle"), json!(65101)],
            vec![
                json!("spine01"),
                json!("swp1"),
                json!("Established"),
                json!(65020)
            ],
        ],
        "SQL through ADBC into pandas"
    );
    let failed_session = vec![vec![json!("leaf01"), json!("swp52"), json!("Idle")]];
    let check = ["Node", "Neighbor", "Reason"];
    assert_eq!(
        records("netql_check", &check),
        failed_session,
        "check bgp through ADBC"
    );
    assert_eq!(
        records("pyarrow_netql", &check),
        failed_session,
        "check bgp through pyarrow"
    );
    assert_eq!(records("pyarrow_sql", &["n"]), [vec![json!(3)]]);
    assert_eq!(
        records("netql_show", &["Hostname", "Neighbor", "ASN", "PfxRx"]),
        [
            vec![
                json!("leaf01"),
                json!("swp51"),
                json!(65101),
                json!("-/-/-")
            ],
            vec![
                json!("leaf01"),
                json!("swp52"),
                json!(65101),
                json!("NotEstd")
            ],
        ]
    );
    assert_eq!(
        seen["netql_show_columns"][0], "Hostname",
        "NetQL's own headings"
    );

    let text = |key: &str| seen[key].as_str().unwrap_or_default().to_string();
    assert!(
        text("sql_error").contains("No field named no_such_column"),
        "{seen:#}"
    );
    assert!(
        text("netql_error").contains("unknown show family `bgpp`"),
        "{seen:#}"
    );
    assert!(
        text("anonymous").contains("a valid token is required"),
        "{seen:#}"
    );
    assert!(
        text("wrong_token").contains("a valid token is required"),
        "{seen:#}"
    );
    assert!(
        text("write_token_reads").contains("may only write"),
        "{seen:#}"
    );

    let tables = &seen["tables"];
    for table in [
        "bgp",
        "interfaces",
        "routes",
        "int_reports",
        "ztp_dhcp",
        "events",
    ] {
        assert_eq!(
            tables[table]["type"], "BASE TABLE",
            "{table} in adbc_get_objects"
        );
    }
    let columns = tables["bgp"]["columns"].as_array().expect("bgp's columns");
    assert!(columns.iter().any(|c| c == "peer_asn"), "{columns:?}");
    assert_eq!(
        seen["bgp_schema"].as_array().map(Vec::len),
        Some(columns.len())
    );
}

/// `sonde serve --tls-cert --tls-key` with a certificate for 127.0.0.1 signed by a CA openssl
/// made: the CLI trusting the CA with `--tls-ca` is answered; a client in the clear, or not
/// trusting it, is not.
#[test]
fn flight_over_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str| dir.path().join(name).display().to_string();
    let (ca, ca_key, cert, key, csr, ext) = (
        file("ca.pem"),
        file("ca-key.pem"),
        file("cert.pem"),
        file("key.pem"),
        file("cert.csr"),
        file("san.ext"),
    );
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\n").expect("extensions file");
    let openssl = |args: &[&str]| {
        let made = std::process::Command::new("openssl")
            .args(args)
            .args([
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
            ])
            .output()
            .expect("openssl runs");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=sonde-test-ca",
        "-keyout",
        &ca_key,
        "-out",
        &ca,
    ]);
    openssl(&[
        "req",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &key,
        "-out",
        &csr,
    ]);
    let signed = std::process::Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .args([
            "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-extfile", &ext, "-out", &cert,
        ])
        .output()
        .expect("openssl runs");
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let data = dir.path().join("data");
    let server = Server::start(
        &data,
        &[
            "--token",
            "tls-token",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
    );
    let https = format!("https://{}", server.addr);
    let query = ["sql", "SELECT 40 + 2 AS answer"];
    let ask = |extra: &[&str]| {
        let mut args = vec!["--server", https.as_str(), "--token", "tls-token"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&query);
        sonde(&args)
    };

    let trusted = ask(&["--tls-ca", &ca]);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(String::from_utf8_lossy(&trusted.stdout).contains("42"));

    let untrusted = ask(&[]);
    assert!(
        !untrusted.status.success(),
        "a certificate nobody vouches for is refused"
    );
    let plain = format!("http://{}", server.addr);
    let clear = sonde(&[
        "--server",
        &plain,
        "--token",
        "tls-token",
        query[0],
        query[1],
    ]);
    assert!(
        !clear.status.success(),
        "a client in the clear gets no answer"
    );
}
