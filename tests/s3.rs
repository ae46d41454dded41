//! S3 on loopback (moto, from PyPI): it holds the Parquet tree that the server in this process
//! writes and `sonde sql` reads back, and the installers `sonde serve --ztp-images` serves.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::{Action, FlightDescriptor};
use futures::TryStreamExt;

use sonde_engine::{EngineConfig, S3Options, StoreLocation};
use sonde_server::ServerConfig;

use crate::common::{
    Bgp, HOUR, Server, T0, TestServer, bgp_batch, python, python3, sonde, sonde_command,
};

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
        let child = Command::new(python3())
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
    let mut store_args = vec!["--store".to_string(), "s3://fabric/dc1".to_string()];
    store_args.extend(s3_flags(&s3));
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
    args.extend(store_args.iter().map(String::as_str));
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

/// The S3 flags of every `sonde` command aimed at `s3`.
fn s3_flags(s3: &S3Server) -> Vec<String> {
    [
        "--s3-endpoint",
        &s3.endpoint,
        "--s3-allow-http",
        "--s3-region",
        "us-east-1",
        "--s3-access-key-id",
        "test",
        "--s3-secret-access-key",
        "test",
    ]
    .map(str::to_string)
    .to_vec()
}

/// curl on loopback: status and body.
fn curl(args: &[&str]) -> (u16, Vec<u8>) {
    let body = tempfile::NamedTempFile::new().expect("tempfile");
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-w", "%{http_code}", "-o"])
        .arg(body.path())
        .args(args)
        .output()
        .expect("curl runs");
    let status = String::from_utf8_lossy(&output.stdout).trim().parse();
    let status = status.unwrap_or_else(|_| panic!("curl {args:?}: {output:?}"));
    (status, std::fs::read(body.path()).expect("curl's body"))
}

#[test]
fn ztp_serves_installers_from_s3() {
    let s3 = S3Server::start();
    // Larger than a piece of the server's ranged fetches, so a download spans several.
    let image: Vec<u8> = (0..9 * 1024 * 1024 + 77u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let upload = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(upload.path(), &image).expect("writes the image");
    s3.boto(&format!(
        "s3.create_bucket(Bucket='images')\n\
         s3.upload_file('{}', 'images', 'onie/sonic-installer.bin')",
        upload.path().display()
    ));
    let site = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        site.path().join("config.db"),
        r#"{ "SN-S3": { "image": "sonic-installer.bin" } }"#,
    )
    .expect("config.db");
    let data = tempfile::tempdir().expect("tempdir");
    let site_arg = site.path().display().to_string();
    let mut args = vec![
        "--ztp",
        &site_arg,
        "--ztp-images",
        "s3://images/onie",
        "--ztp-http-addr",
        "127.0.0.1:0",
        "--dhcp-addr",
        "",
        "--gelf-addr",
        "",
    ];
    let flags = s3_flags(&s3);
    args.extend(flags.iter().map(String::as_str));
    let server = Server::start(data.path(), &args);
    let base = format!("http://{}", server.listening("ZTP HTTP"));
    let url = format!("{base}/images/sonic-installer.bin");

    let (status, body) = curl(&[&url]);
    assert_eq!((status, body.len()), (200, image.len()));
    assert!(body == image, "the whole image is byte-exact");
    let (status, tail) = curl(&["-r", "5000000-", &url]);
    assert_eq!(status, 206);
    assert!(
        tail == image[5_000_000..],
        "a resumed download is byte-exact"
    );
    let (status, body) = curl(&[
        "-H",
        "ONIE-SERIAL-NUMBER: SN-S3",
        &format!("{base}/ztp/image"),
    ]);
    assert_eq!(
        (status, body.len()),
        (200, image.len()),
        "the serial's image"
    );
    let (status, _) = curl(&[&format!("{base}/images/absent.bin")]);
    assert_eq!(status, 404);

    // A clean stop writes every access row; each names the object it served.
    assert!(server.stop().success());
    let data_arg = data.path().display().to_string();
    let query = "SELECT path, status, file FROM ztp_http ORDER BY timestamp, request_id";
    let out = sonde(&["sql", "--data-dir", &data_arg, "--json", query]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
    let rows: Vec<(String, u64, String)> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let text = |name: &str| row[name].as_str().unwrap_or_default().to_string();
            (
                text("path"),
                row["status"].as_u64().unwrap_or(0),
                text("file"),
            )
        })
        .collect();
    let object = "s3://images/onie/sonic-installer.bin";
    let expected = [
        ("/images/sonic-installer.bin", 200, object),
        ("/images/sonic-installer.bin", 206, object),
        ("/ztp/image", 200, object),
        ("/images/absent.bin", 404, "images/absent.bin"),
    ];
    let expected: Vec<(String, u64, String)> = expected
        .iter()
        .map(|(p, s, f)| (p.to_string(), *s, f.to_string()))
        .collect();
    assert_eq!(rows, expected);
}

/// The statements a post-mortem asks, every family of the simulated fabric, at times inside its
/// history (it ends 2026-11-20T00:00Z) and at its end.
const POST_MORTEM: [&str; 14] = [
    "check bgp around 2026-11-19T12:00:00Z",
    "check agents around 2026-11-19T12:00:00Z",
    "check interfaces around 2026-11-19T06:00:00Z",
    "check clag",
    "check evpn",
    "check sensors around 2026-11-18T20:00:00Z",
    "show bgp around 2026-11-19T06:00:00Z",
    "spine01 show bgp",
    "show interfaces around 2026-11-18T12:30:00Z",
    "show lldp",
    "show ip routes",
    "show changes between 2026-11-19T10:00:00Z and 2026-11-19T14:00:00Z",
    "show events between 2026-11-18T00:00:00Z and 2026-11-20T00:00:00Z",
    "select hostname, count(*) as n, max(timestamp) as last from bgp group by hostname order by hostname",
];

/// `sonde --json <statement>` through `target` (a store's flags or `--server`): exit code and
/// output.
fn answer(target: &[String], statement: &str) -> (Option<i32>, String) {
    let mut args: Vec<&str> = target.iter().map(String::as_str).collect();
    args.push("--json");
    args.push(statement);
    let out = sonde(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{statement}: {stderr}"
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A push's summary line: (copied, already archived).
fn pushed(out: &std::process::Output) -> (usize, usize) {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let words: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("copied "))
        .unwrap_or_else(|| panic!("no summary: {text}"))
        .split_whitespace()
        .collect();
    let number = |i: usize| {
        words[i]
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("{text}"))
    };
    // copied N files (X KiB), M already archived, …
    (number(1), number(5))
}

#[test]
fn the_archive_answers_a_post_mortem_as_the_live_store_does() {
    let s3 = S3Server::start();
    s3.boto("s3.create_bucket(Bucket='archive')");
    let dir = tempfile::tempdir().expect("tempdir");
    let live = dir.path().join("live").display().to_string();
    let made = sonde(&[
        "--data-dir",
        &live,
        "simulate",
        "--nodes",
        "20",
        "--days",
        "2",
        "--end",
        "2026-11-20T00:00:00Z",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let flags = s3_flags(&s3);
    let push = |to: &str, extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = ["--data-dir", &live, "archive", "push", "--to", to]
            .map(str::to_string)
            .to_vec();
        args.extend(flags.iter().cloned());
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let run = |args: Vec<String>| sonde_command().args(args).output().expect("sonde runs");

    // Interrupted after its first file, then resumed: the second run copies the rest only.
    let mut first = sonde_command()
        .args(push("s3://archive/fabric", &["--jobs", "1"]))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sonde archive push starts");
    let progress = BufReader::new(first.stderr.take().expect("piped stderr"));
    let mut before_kill = 0;
    for line in progress.lines().map_while(Result::ok) {
        if line.starts_with("copied ") {
            before_kill += 1;
            let _ = first.kill();
            break;
        }
    }
    let _ = first.wait();
    assert_eq!(
        before_kill, 1,
        "the push reported a copied file before it was killed"
    );
    let (copied, already) = pushed(&run(push("s3://archive/fabric", &[])));
    assert!(
        already >= 1,
        "the file copied before the kill is kept: {already}"
    );
    assert!(copied > 200, "the rest of the 290-odd files: {copied}");
    let total = copied + already;
    assert_eq!(
        pushed(&run(push("s3://archive/fabric", &[]))),
        (0, total),
        "a second push copies nothing"
    );
    let keys = s3.boto(
        "p = s3.get_paginator('list_objects_v2')\n\
         print(sum(len(page.get('Contents', [])) for page in p.paginate(Bucket='archive', Prefix='fabric/')))",
    );
    assert_eq!(
        keys.trim().parse::<usize>().ok(),
        Some(total),
        "one object per file"
    );

    let mut verify = vec![
        "--data-dir",
        &live,
        "archive",
        "verify",
        "--to",
        "s3://archive/fabric",
    ];
    verify.extend(flags.iter().map(String::as_str));
    let checked = sonde(&verify);
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{text}");
    assert!(text.contains(&format!("checked {total} files")), "{text}");
    assert!(
        text.contains("0 corrupt, 0 without a checksum, 0 closed files not archived"),
        "{text}"
    );

    // One object damaged: verify names it and fails; a push repairs it.
    let victim = s3.boto(
        "key = [o['Key'] for o in s3.list_objects_v2(Bucket='archive', Prefix='fabric/bgp/')['Contents']][0]\n\
         head = s3.head_object(Bucket='archive', Key=key)\n\
         s3.put_object(Bucket='archive', Key=key, Body=b'not parquet', Metadata=head['Metadata'])\n\
         print(key)",
    );
    let damaged = sonde(&verify);
    let text = String::from_utf8_lossy(&damaged.stdout);
    assert!(!damaged.status.success(), "{text}");
    assert!(
        text.contains(victim.trim().trim_start_matches("fabric/")),
        "{text}"
    );
    assert_eq!(
        pushed(&run(push("s3://archive/fabric", &[]))),
        (1, total - 1)
    );
    assert!(sonde(&verify).status.success(), "repaired");
    // Configured as every AWS tool is, by the AWS_* variables alone.
    let by_environment = sonde_command()
        .args([
            "--data-dir",
            &live,
            "archive",
            "verify",
            "--to",
            "s3://archive/fabric",
        ])
        .env("AWS_ENDPOINT_URL", &s3.endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("sonde runs");
    assert!(
        by_environment.status.success(),
        "{}",
        String::from_utf8_lossy(&by_environment.stderr)
    );

    // Every answer from the archive, one-shot and through a read-only server, is the live one.
    let from_live = vec!["--data-dir".to_string(), live.clone()];
    let mut from_archive = vec!["--store".to_string(), "s3://archive/fabric".to_string()];
    from_archive.extend(flags.iter().cloned());
    let empty = dir.path().join("no-wal");
    let mut serve_args = vec!["--read-only", "--store", "s3://archive/fabric"];
    serve_args.extend(flags.iter().map(String::as_str));
    let server = Server::start(&empty, &serve_args);
    let from_server = vec!["--server".to_string(), server.addr.clone()];
    for statement in POST_MORTEM {
        let expected = answer(&from_live, statement);
        assert!(
            expected.1.len() > 2,
            "{statement} has an answer: {}",
            expected.1
        );
        assert_eq!(
            answer(&from_archive, statement),
            expected,
            "{statement} from the archive"
        );
        assert_eq!(
            answer(&from_server, statement),
            expected,
            "{statement} from a read-only server"
        );
    }
    let mut client_args: Vec<&str> = from_server.iter().map(String::as_str).collect();
    client_args.extend(["sql", "INSERT INTO bgp SELECT * FROM bgp"]);
    assert!(
        !sonde(&client_args).status.success(),
        "a read-only server takes no writes"
    );
}
