//! The store on S3: an S3 server on loopback (moto, from PyPI) holds the Parquet tree that the
//! server in this process writes and `sonde sql` reads back.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::{Action, FlightDescriptor};
use futures::TryStreamExt;

use sonde_engine::{EngineConfig, S3Options, StoreLocation};
use sonde_server::ServerConfig;

use crate::common::{Bgp, HOUR, T0, TestServer, bgp_batch, python, sonde};

struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    fn start() -> S3Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto server starts (pip install 'moto[server]')");
        let server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the S3 server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn boto(&self, script: &str) -> String {
        let prelude = format!(
            "import boto3\ns3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='test', \
             aws_secret_access_key='test', region_name='us-east-1')\n",
            self.endpoint
        );
        python(&(prelude + script), &[])
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_parquet_tree_can_live_in_s3() {
    let s3 = S3Server::start();
    s3.boto("s3.create_bucket(Bucket='fabric')");
    let wal = tempfile::tempdir().expect("tempdir");
    let store_args = [
        "--store",
        "s3://fabric/dc1",
        "--s3-endpoint",
        &s3.endpoint,
        "--s3-allow-http",
        "--s3-region",
        "us-east-1",
        "--s3-access-key-id",
        "test",
        "--s3-secret-access-key",
        "test",
    ];
    // The server of `sonde serve --data-dir <wal> <store_args>`.
    let mut engine = EngineConfig::local(wal.path());
    engine.store = StoreLocation::parse("s3://fabric/dc1").expect("an S3 location");
    engine.s3 = S3Options {
        endpoint: Some(s3.endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    };
    let server = TestServer::with_config(ServerConfig::new(engine)).await;
    let mut client = server.client(None).await;
    let rows: Vec<Bgp> = (0..200)
        .map(|i| {
            Bgp::new(
                T0 + (i % 3) * HOUR + i,
                "spine01",
                &format!("swp{i}"),
                "Established",
                65020,
                true,
            )
        })
        .collect();
    let data = FlightDataEncoderBuilder::new()
        .with_flight_descriptor(Some(FlightDescriptor::new_path(vec!["bgp".into()])))
        .build(futures::stream::iter([Ok(bgp_batch(&rows))]));
    let acks: Vec<_> = client
        .do_put(data)
        .await
        .expect("put")
        .try_collect()
        .await
        .expect("acked");
    assert_eq!(acks.len(), 1);
    let flushed: Vec<_> = client
        .do_action(Action::new("flush", ""))
        .await
        .expect("flush")
        .try_collect()
        .await
        .expect("flush");
    assert!(
        String::from_utf8_lossy(&flushed[0]).contains("\"files\":3"),
        "{flushed:?}"
    );
    server.stop().await.expect("the server stops cleanly");

    let keys = s3.boto("for o in s3.list_objects_v2(Bucket='fabric', Prefix='dc1/bgp/')['Contents']: print(o['Key'])");
    assert_eq!(keys.lines().count(), 3, "one file per hour: {keys}");
    assert!(
        keys.lines()
            .all(|k| k.starts_with("dc1/bgp/date=2026-11-01/hour=0") && k.ends_with(".parquet")),
        "{keys}"
    );

    let mut args = vec!["sql", "--data-dir", wal.path().to_str().expect("utf-8")];
    args.extend(store_args);
    args.push("SELECT count(*) AS n, count(DISTINCT peer) AS peers FROM bgp");
    let out = sonde(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["200", "200"]),
        "{text}"
    );
}
