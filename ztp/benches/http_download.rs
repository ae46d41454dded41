//! Image download throughput, Sonde's ZTP HTTP server beside nginx (`sendfile on`,
//! `tcp_nopush on`, `access_log off`) serving the same file from the same directory: one client
//! fetching a 256 MiB image, then 32 clients fetching it at once. The clients are plain tokio
//! TCP GETs that read and discard, on their own runtime; Sonde's server runs in a child
//! process (this binary again) with as many workers as nginx has worker processes, so both
//! servers face the same clients from outside their process.
//!
//! With two CPUs or more, the one-client part runs with the servers on CPU 0 and the client on
//! the others (`taskset`, util-linux), since a single loopback stream's rate otherwise depends
//! on where the scheduler puts the two ends.
//!
//! `cargo bench -p sonde-ztp --bench http_download`. Knobs: `HTTP_DOWNLOAD_MIB` (file size,
//! default 256), `HTTP_DOWNLOAD_RUNS` (single-client runs per server, default 7),
//! `HTTP_DOWNLOAD_CONCURRENT_RUNS` (default 3), `HTTP_DOWNLOAD_CLIENTS` (default 32),
//! `HTTP_DOWNLOAD_WORKERS` (server workers and nginx processes, default: the CPUs). When curl
//! is installed, the concurrent test is repeated with curl processes as the clients.
//! Needs Debian's `nginx` on the PATH or in /usr/sbin (`apt-get install -y nginx`).
//! `HTTP_DOWNLOAD_SERVE=1` only serves the generated directory with both servers, printing
//! their addresses, until the process is interrupted: for trying other clients by hand.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sonde_ztp::ZtpDir;
use sonde_ztp::config::{Watched, ZtpConfig};
use sonde_ztp::events::Recorder;
use sonde_ztp::http::HttpServer;
use sonde_ztp::leases::NoLeases;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PATH: &str = "/images/image.bin";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let mib = env_or("HTTP_DOWNLOAD_MIB", 256);
    let runs = env_or("HTTP_DOWNLOAD_RUNS", 7);
    let concurrent_runs = env_or("HTTP_DOWNLOAD_CONCURRENT_RUNS", 3);
    let clients = env_or("HTTP_DOWNLOAD_CLIENTS", 32);
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = env_or("HTTP_DOWNLOAD_WORKERS", cpus);
    if let Some(root) = std::env::var_os(CHILD_ROOT) {
        serve_child(PathBuf::from(root), workers);
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let len = write_image(dir.path(), mib);
    let sonde = start_sonde(dir.path(), workers);
    let nginx = Nginx::start(dir.path(), workers);

    stop_nginx_on_signal(nginx.child.id(), dir.path().to_path_buf());
    if std::env::var_os("HTTP_DOWNLOAD_SERVE").is_some() {
        println!("sonde http://{}{PATH}", sonde.addr);
        println!("nginx http://{}{PATH}", nginx.addr);
        loop {
            std::thread::park();
        }
    }
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cpus)
        .enable_all()
        .build()
        .unwrap();
    // Warm the page cache and both servers.
    client_rt.block_on(download(sonde.addr, len));
    client_rt.block_on(download(nginx.addr, len));

    println!(
        "image {mib} MiB, {workers} server worker(s), {cpus} CPU(s); MB/s = 10^6 bytes/s, medians"
    );
    // One stream over loopback is bimodal when the scheduler may put the client and the server
    // on one CPU or on two (2–12 GB/s for either server here): the servers get CPU 0 and the
    // client the others for this part, the same for both.
    let pinned = cpus >= 2;
    if pinned {
        let others = format!("1-{}", cpus - 1);
        pin(sonde.child.id(), "0");
        pin(nginx.child.id(), "0");
        pin_alone(std::process::id(), &others);
        println!("1 client: the servers on CPU 0, the client on CPU {others}");
    }
    let mut single = (Vec::new(), Vec::new());
    for _ in 0..runs {
        single.0.push(client_rt.block_on(rate(sonde.addr, len, 1)));
        single.1.push(client_rt.block_on(rate(nginx.addr, len, 1)));
    }
    report("1 client", &mut single.0, &mut single.1);
    if pinned {
        let all = format!("0-{}", cpus - 1);
        pin(sonde.child.id(), &all);
        pin(nginx.child.id(), &all);
        pin_alone(std::process::id(), &all);
    }
    let mut many = (Vec::new(), Vec::new());
    for _ in 0..concurrent_runs {
        many.0
            .push(client_rt.block_on(rate(sonde.addr, len, clients)));
        many.1
            .push(client_rt.block_on(rate(nginx.addr, len, clients)));
    }
    report(&format!("{clients} clients"), &mut many.0, &mut many.1);
    if Command::new("curl").arg("--version").output().is_ok() {
        let mut curls = (Vec::new(), Vec::new());
        for _ in 0..concurrent_runs {
            curls.0.push(curl_rate(sonde.addr, len, clients));
            curls.1.push(curl_rate(nginx.addr, len, clients));
        }
        report(&format!("{clients} curls"), &mut curls.0, &mut curls.1);
    }
    drop(nginx);
    drop(sonde);
    drop(dir);
}

/// Puts process `pid` and its threads on `cpus`, a `taskset` list such as `0` or `1-3`.
fn pin_alone(pid: u32, cpus: &str) {
    let _ = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &pid.to_string()])
        .stdout(Stdio::null())
        .status();
}

/// [`pin_alone`] for `pid` and its child processes (nginx's workers).
fn pin(pid: u32, cpus: &str) {
    for process in std::iter::once(pid).chain(children(pid)) {
        pin_alone(process, cpus);
    }
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            // `pid (comm) state ppid …`: the comm may hold spaces, so read after its `)`.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after.split_whitespace().nth(1) == Some(pid.to_string().as_str())
        })
        .collect()
}

/// Writes `images/image.bin` of `mib` MiB; its length.
fn write_image(root: &Path, mib: usize) -> u64 {
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let chunk: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i * 31 + i / 4099) as u8)
        .collect();
    let mut file = std::fs::File::create(images.join("image.bin")).unwrap();
    for _ in 0..mib {
        file.write_all(&chunk).unwrap();
    }
    file.sync_all().unwrap();
    // nginx's workers run as nobody when started as root: the tree must be readable.
    for path in [root, images.as_path()] {
        set_mode(path, 0o755);
    }
    set_mode(&images.join("image.bin"), 0o644);
    (mib as u64) << 20
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Sonde's server in a child process (this binary again), as nginx is one: neither server
/// shares a process or a scheduler with the clients. The child ends when its stdin closes.
struct Sonde {
    addr: SocketAddr,
    child: Child,
}

const CHILD_ROOT: &str = "HTTP_DOWNLOAD_SONDE_ROOT";

fn start_sonde(root: &Path, workers: usize) -> Sonde {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ROOT, root)
        .env("HTTP_DOWNLOAD_WORKERS", workers.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    Sonde {
        addr: line.trim().parse().expect("the child prints its address"),
        child,
    }
}

/// The child: serves `root` until stdin closes.
fn serve_child(root: PathBuf, workers: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let watched = Watched::fixed(ZtpDir::new(root), ZtpConfig::default());
        let (recorder, mut events) = Recorder::discard();
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        let server = HttpServer::new(watched, recorder, Arc::new(NoLeases));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{}", listener.local_addr().unwrap());
        let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            let _ = closed.send(());
        });
        let stdin_closed = async {
            let _ = stdin_closed.await;
        };
        server.run(listener, stdin_closed).await.unwrap();
    });
}

impl Drop for Sonde {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx in the foreground under a generated configuration; stopped when dropped, panics
/// included.
struct Nginx {
    addr: SocketAddr,
    child: Child,
}

impl Nginx {
    fn start(root: &Path, workers: usize) -> Nginx {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let prefix = root.join("nginx");
        std::fs::create_dir_all(prefix.join("tmp")).unwrap();
        let conf = prefix.join("nginx.conf");
        std::fs::write(&conf, nginx_conf(root, &prefix, port, workers)).unwrap();
        let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("nginx"));
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(&prefix)
            .stdin(Stdio::null())
            .spawn()
            .expect("nginx runs (apt-get install -y nginx)");
        let nginx = Nginx {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(nginx.addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }
}

fn nginx_conf(root: &Path, prefix: &Path, port: u16, workers: usize) -> String {
    let (root, prefix) = (root.display(), prefix.display());
    format!(
        "daemon off;\n\
         master_process on;\n\
         worker_processes {workers};\n\
         pid {prefix}/nginx.pid;\n\
         error_log {prefix}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
         \x20   access_log off;\n\
         \x20   sendfile on;\n\
         \x20   tcp_nopush on;\n\
         \x20   tcp_nodelay on;\n\
         \x20   keepalive_timeout 65;\n\
         \x20   default_type application/octet-stream;\n\
         \x20   client_body_temp_path {prefix}/tmp/body;\n\
         \x20   proxy_temp_path {prefix}/tmp/proxy;\n\
         \x20   fastcgi_temp_path {prefix}/tmp/fastcgi;\n\
         \x20   uwsgi_temp_path {prefix}/tmp/uwsgi;\n\
         \x20   scgi_temp_path {prefix}/tmp/scgi;\n\
         \x20   server {{\n\
         \x20       listen 127.0.0.1:{port};\n\
         \x20       root {root};\n\
         \x20       location / {{ }}\n\
         \x20   }}\n\
         }}\n"
    )
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its workers; SIGKILL if it does not within a while.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// On SIGINT or SIGTERM, stops nginx and removes the directory before the process ends
/// (drops do not run then).
fn stop_nginx_on_signal(pid: u32, dir: PathBuf) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate()).unwrap();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = std::fs::remove_dir_all(&dir);
        std::process::exit(130);
    });
}

/// One GET of the image, read to the end and discarded; the body bytes.
async fn download(addr: SocketAddr, len: u64) -> u64 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {PATH} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 256 << 10];
    let mut total = 0u64;
    let mut head = None;
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        if head.is_none() {
            let text = &buf[..n];
            let end = text.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            assert!(text.starts_with(b"HTTP/1.1 200"), "not a 200");
            head = Some(end as u64);
        }
        total += n as u64;
    }
    let body = total - head.unwrap();
    assert_eq!(body, len, "short body");
    body
}

/// `clients` concurrent downloads: aggregate MB/s.
async fn rate(addr: SocketAddr, len: u64, clients: usize) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(download(addr, len)))
        .collect();
    let mut bytes = 0;
    for task in tasks {
        bytes += task.await.unwrap();
    }
    bytes as f64 / started.elapsed().as_secs_f64() / 1e6
}

/// `clients` curl processes fetching the image at once (curl's own reads, in other
/// processes): aggregate MB/s.
fn curl_rate(addr: SocketAddr, len: u64, clients: usize) -> f64 {
    let url = format!("http://{addr}{PATH}");
    let started = Instant::now();
    let children: Vec<Child> = (0..clients)
        .map(|_| {
            Command::new("curl")
                .args(["-s", "-f", "-o", "/dev/null", &url])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "curl failed");
    }
    (len * clients as u64) as f64 / started.elapsed().as_secs_f64() / 1e6
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(what: &str, sonde: &mut [f64], nginx: &mut [f64]) {
    if sonde.is_empty() || nginx.is_empty() {
        return;
    }
    let (s, n) = (median(sonde), median(nginx));
    let ratio = s / n;
    let verdict = if ratio >= 0.9 { "meets" } else { "misses" };
    println!(
        "{what:>11}: sonde {s:>8.0} MB/s  nginx {n:>8.0} MB/s  sonde/nginx {ratio:.2} ({verdict} the 0.9 target)"
    );
    let range = |rates: &[f64]| {
        let low = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let high = rates.iter().copied().fold(0.0, f64::max);
        format!("{low:.0}–{high:.0}")
    };
    println!(
        "{:>11}  runs: sonde {} MB/s, nginx {} MB/s",
        "",
        range(sonde),
        range(nginx)
    );
}
