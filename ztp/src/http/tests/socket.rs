//! The server on real loopback sockets, spoken to by a small client written here: ranges,
//! validators, HEAD, keep-alive and pipelining, malformed and slow heads, recorded rows,
//! many clients at once, shutdown.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sonde_schema::row::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Fixture, IMAGE_LEN, column, fixture, image_bytes, text};
use crate::events::Event;
use crate::http::{HttpOptions, HttpServer};

pub(super) struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<crate::Result<()>>,
    events: mpsc::Receiver<Event>,
    _dir: tempfile::TempDir,
}

async fn start_with(options: HttpOptions) -> Running {
    let Fixture {
        dir,
        server,
        events,
    } = fixture();
    start_server(server.with_options(options), dir, events).await
}

pub(super) async fn start_server(
    server: HttpServer,
    dir: tempfile::TempDir,
    events: mpsc::Receiver<Event>,
) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
        task,
        events,
        _dir: dir,
    }
}

async fn start() -> Running {
    start_with(HttpOptions::default()).await
}

impl Running {
    pub(super) async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }

    pub(super) async fn connect(&self) -> Wire {
        Wire {
            stream: TcpStream::connect(self.addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    /// The next recorded event, waiting for it.
    pub(super) async fn event(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(5), self.events.recv())
            .await
            .unwrap()
            .unwrap()
    }
}

/// One answer as read off the wire.
#[derive(Debug)]
pub(super) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(super) struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    pub(super) async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads one answer; `head_only` for the answer to HEAD.
    pub(super) async fn answer(&mut self, head_only: bool) -> Answer {
        loop {
            let mut fields = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut fields);
            if let httparse::Status::Complete(len) = parsed.parse(&self.buf).unwrap() {
                let status = parsed.code.unwrap();
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        let value = String::from_utf8(h.value.to_vec()).unwrap();
                        (h.name.to_string(), value)
                    })
                    .collect();
                let length: usize = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .map_or(0, |(_, v)| v.parse().unwrap());
                let length = if head_only || status == 304 {
                    0
                } else {
                    length
                };
                self.buf.drain(..len);
                while self.buf.len() < length {
                    self.fill().await;
                }
                let body = self.buf.drain(..length).collect();
                return Answer {
                    status,
                    headers,
                    body,
                };
            }
            self.fill().await;
        }
    }

    async fn fill(&mut self) {
        let mut chunk = vec![0; 1 << 16];
        let n = self.stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed early");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// Whether the server closed the connection (after any bytes still buffered).
    pub(super) async fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 64];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.stream.read(&mut chunk)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}

pub(super) fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n").into_bytes()
}

#[tokio::test]
async fn ranges_are_byte_exact_over_the_socket() {
    let server = start().await;
    let image = image_bytes();
    let mut wire = server.connect().await;
    for (range, first, last) in [
        ("bytes=0-0", 0, 0),
        ("bytes=1000-299999", 1000, IMAGE_LEN - 1),
        ("bytes=12345-", 12345, IMAGE_LEN - 1),
        ("bytes=-777", IMAGE_LEN - 777, IMAGE_LEN - 1),
        ("bytes=299990-400000", 299_990, IMAGE_LEN - 1),
    ] {
        wire.send(&get(
            "/images/onl-installer.bin",
            &format!("Range: {range}\r\n"),
        ))
        .await;
        let answer = wire.answer(false).await;
        assert_eq!(answer.status, 206, "{range}");
        assert_eq!(answer.body, &image[first..=last], "{range}");
        let expected = format!("bytes {first}-{last}/{IMAGE_LEN}");
        assert_eq!(answer.get("content-range"), Some(expected.as_str()));
    }
    wire.send(&get(
        "/images/onl-installer.bin",
        "Range: bytes=300000-\r\n",
    ))
    .await;
    let answer = wire.answer(false).await;
    assert_eq!(answer.status, 416);
    assert_eq!(answer.get("content-range"), Some("bytes */300000"));
    wire.send(&get(
        "/images/onl-installer.bin",
        "Range: bytes=0-1,5-9\r\n",
    ))
    .await;
    let answer = wire.answer(false).await;
    assert_eq!((answer.status, answer.body.len()), (200, IMAGE_LEN));
    assert_eq!(answer.body, image);
    server.stop().await;
}

#[tokio::test]
async fn etags_give_304_and_head_gives_no_body() {
    let server = start().await;
    let mut wire = server.connect().await;
    wire.send(&get("/images/onl-installer.bin", "")).await;
    let whole = wire.answer(false).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.get("accept-ranges"), Some("bytes"));
    assert!(whole.get("last-modified").is_some());
    let etag = whole.get("etag").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    wire.send(&get(
        "/images/onl-installer.bin",
        &format!("If-None-Match: {etag}\r\n"),
    ))
    .await;
    let again = wire.answer(false).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.get("etag"), Some(etag.as_str()));
    wire.send(b"HEAD /images/onl-installer.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let head = wire.answer(true).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.get("content-length"), Some("300000"));
    // Nothing but the next answer follows a HEAD answer.
    wire.send(&get("/nothing", "")).await;
    assert_eq!(wire.answer(false).await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn keep_alive_and_pipelining_answer_in_order() {
    let mut server = start().await;
    let mut wire = server.connect().await;
    wire.send(&get(
        "/ztp/config/startup",
        "ONIE-SERIAL-NUMBER: SERIAL-A\r\n",
    ))
    .await;
    let first = wire.answer(false).await;
    assert_eq!(first.body, br#"{"startup": "A"}"#);
    assert_eq!(first.get("connection"), Some("keep-alive"));
    wire.send(&get(
        "/ztp/config/startup",
        "ONIE-SERIAL-NUMBER: SERIAL-B\r\n",
    ))
    .await;
    assert_eq!(wire.answer(false).await.body, br#"{"startup": "B"}"#);
    let mut pipelined = get("/images/onie-installer-x86_64", "");
    pipelined.extend(get("/nothing", ""));
    pipelined.extend(b"POST /ztp/config/ctrld HTTP/1.1\r\nONIE-SERIAL-NUMBER: SERIAL-A\r\nContent-Length: 5\r\n\r\nhello");
    pipelined.extend(get(
        "/ztp/config/ctrld",
        "ONIE-SERIAL-NUMBER: SERIAL-A\r\nConnection: close\r\n",
    ));
    wire.send(&pipelined).await;
    assert_eq!(wire.answer(false).await.body, b"x86 installer");
    assert_eq!(wire.answer(false).await.status, 404);
    assert_eq!(wire.answer(false).await.body, br#"{"ctrld": "A"}"#);
    let last = wire.answer(false).await;
    assert_eq!(last.body, br#"{"ctrld": "A"}"#);
    assert_eq!(last.get("connection"), Some("close"));
    assert!(wire.closed().await);
    let first_event = server.event().await;
    assert_eq!(text(column(&first_event, "client_ip")), "127.0.0.1");
    assert_eq!(column(&first_event, "bytes"), &Value::U64(16));
    server.stop().await;
}

#[tokio::test]
async fn http_1_0_closes_unless_asked_to_keep_alive() {
    let server = start().await;
    let mut wire = server.connect().await;
    wire.send(b"GET /images/onie-installer-x86_64 HTTP/1.0\r\n\r\n")
        .await;
    assert_eq!(wire.answer(false).await.status, 200);
    assert!(wire.closed().await);
    let mut wire = server.connect().await;
    wire.send(b"GET /images/onie-installer-x86_64 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await;
    assert_eq!(
        wire.answer(false).await.get("connection"),
        Some("keep-alive")
    );
    wire.send(b"GET /nothing HTTP/1.0\r\n\r\n").await;
    assert_eq!(wire.answer(false).await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn malformed_heads_are_answered_and_recorded_and_close() {
    let mut server = start().await;
    for (wire_bytes, status) in [
        (b"GARBAGE\r\n\r\n".to_vec(), 400),
        (b"GET / HTTP/1.1\r\nNo Colon Here\r\n\r\n".to_vec(), 400),
        (b"GET nowhere HTTP/1.1\r\n\r\n".to_vec(), 400),
        (
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
            400,
        ),
        (get("/", &format!("X-Big: {}\r\n", "a".repeat(20_000))), 431),
        (
            get(
                "/",
                &(0..100)
                    .map(|i| format!("X-{i}: y\r\n"))
                    .collect::<String>(),
            ),
            431,
        ),
        (
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec(),
            400,
        ),
    ] {
        let mut wire = server.connect().await;
        wire.send(&wire_bytes).await;
        assert_eq!(wire.answer(false).await.status, status);
        assert!(wire.closed().await);
        let event = server.event().await;
        assert_eq!(column(&event, "status"), &Value::U32(u32::from(status)));
        assert_eq!(text(column(&event, "log_event")), "ZTP0210W");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_slow_head_gets_408_and_an_idle_connection_is_closed() {
    let options = HttpOptions {
        head_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        ..HttpOptions::default()
    };
    let server = start_with(options).await;
    let mut slow = server.connect().await;
    slow.send(b"GET /images/onl-installer.bin HTTP/1.1\r\n")
        .await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let _ = slow.stream.write_all(b"X-Slow: y\r\n").await;
    }
    assert_eq!(slow.answer(false).await.status, 408);
    assert!(slow.closed().await);
    let mut idle = server.connect().await;
    assert!(idle.closed().await);
    server.stop().await;
}

#[tokio::test]
async fn many_clients_download_whole_files_at_once() {
    let mut server = start().await;
    let image = Arc::new(image_bytes());
    let mut clients = Vec::new();
    for i in 0..16 {
        let mut wire = server.connect().await;
        let image = Arc::clone(&image);
        clients.push(tokio::spawn(async move {
            for _ in 0..3 {
                wire.send(&get("/ztp/image", "ONIE-SERIAL-NUMBER: SERIAL-A\r\n"))
                    .await;
                let answer = wire.answer(false).await;
                assert_eq!(answer.status, 200, "client {i}");
                assert!(answer.body == *image, "client {i}");
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
    for _ in 0..48 {
        let event = server.event().await;
        assert_eq!(column(&event, "bytes"), &Value::U64(IMAGE_LEN as u64));
        assert_eq!(text(column(&event, "route")), "image");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_client_that_leaves_mid_download_is_recorded_with_what_it_got() {
    let dir = tempfile::tempdir().unwrap();
    super::write_tree(dir.path());
    let big = vec![5u8; 64 << 20];
    std::fs::write(dir.path().join("images/big.bin"), &big).unwrap();
    let config = crate::config::ZtpConfig::default();
    let watched = crate::config::Watched::fixed(crate::ZtpDir::new(dir.path()), config);
    let (recorder, events) = crate::events::Recorder::discard();
    let server = HttpServer::new(watched, recorder, Arc::new(crate::leases::NoLeases));
    let mut server = start_server(server, dir, events).await;
    let mut wire = server.connect().await;
    wire.send(&get("/images/big.bin", "")).await;
    let mut chunk = vec![0; 1 << 16];
    let n = wire.stream.read(&mut chunk).await.unwrap();
    assert!(n > 0);
    drop(wire);
    let event = server.event().await;
    assert_eq!(column(&event, "status"), &Value::U32(200));
    let Value::U64(bytes) = column(&event, "bytes") else {
        panic!("bytes")
    };
    assert!(*bytes < (64 << 20), "{bytes}");
    server.stop().await;
}

#[tokio::test]
async fn shutdown_lets_an_answer_finish_and_closes_idle_connections() {
    let server = start().await;
    let mut idle = server.connect().await;
    let mut busy = server.connect().await;
    busy.send(&get("/images/onl-installer.bin", "")).await;
    // The answer is under way (or done) before the stop.
    let mut first = vec![0; 16];
    busy.stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first[..12], b"HTTP/1.1 200");
    let addr = server.addr;
    let reader = tokio::spawn(async move {
        let mut rest = Vec::new();
        busy.stream.read_to_end(&mut rest).await.unwrap();
        rest.len()
    });
    server.stop().await;
    assert!(idle.closed().await);
    let rest = reader.await.unwrap();
    assert!(rest > IMAGE_LEN, "{rest}");
    assert!(TcpStream::connect(addr).await.is_err());
}

/// curl, when installed: ONIE's headers on an installer name, then a resumed download.
#[tokio::test]
async fn curl_fetches_and_resumes_byte_exact() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        return;
    }
    let server = start().await;
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("image");
    std::fs::write(&target, &image_bytes()[..1000]).unwrap();
    let base = format!("http://{}", server.addr);
    let target2 = target.clone();
    let statuses = tokio::task::spawn_blocking(move || {
        let curl = |args: &[&str]| {
            let output = std::process::Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
                .args(args)
                .output()
                .unwrap();
            String::from_utf8(output.stdout).unwrap()
        };
        let onie = format!("{base}/onie-installer-x86_64-accton_as7712_32x-r0");
        let config = format!("{base}/ztp/config/startup");
        let image = format!("{base}/images/onl-installer.bin");
        let resumed = std::process::Command::new("curl")
            .args(["-s", "-C", "-", "-o"])
            .arg(&target2)
            .arg(&image)
            .status()
            .unwrap();
        assert!(resumed.success());
        [
            curl(&["-H", "ONIE-SERIAL-NUMBER: SERIAL-A", &onie]),
            curl(&["-H", "ONIE-SERIAL-NUMBER: UNKNOWN", &onie]),
            curl(&["-H", "ONIE-SERIAL-NUMBER: SERIAL-B", &config]),
            curl(&["--path-as-is", &format!("{base}/images/../config.db")]),
        ]
    })
    .await
    .unwrap();
    assert_eq!(statuses, ["200", "404", "200", "400"].map(String::from));
    assert_eq!(std::fs::read(&target).unwrap(), image_bytes());
    server.stop().await;
}
