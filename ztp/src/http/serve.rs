//! The connection loop: accept under a connection bound, read heads under a size limit and a
//! deadline, answer in order (keep-alive and pipelining), send file bodies with `sendfile`,
//! record each request's row once its last byte is written, and stop gracefully.
//!
//! Timeouts: a connection waits [`HttpOptions::idle_timeout`] for a request's first byte, then
//! [`HttpOptions::head_timeout`] for the whole head (so a client trickling a head byte by byte
//! cannot hold a connection: it gets 408), and every write must make progress within
//! [`HttpOptions::write_timeout`]. Pipelined requests are read from the same buffer after the
//! previous answer is written, so answers go out in request order.
//!
//! Sending: while a file answer goes out the socket is corked (nginx's `tcp_nopush`), so the
//! head rides in the same segment as the file's first bytes and only full segments leave until
//! the last; the file goes out with `sendfile(2)` in calls as large as the socket takes, on the
//! tokio socket's readiness. The file is opened with `O_NOFOLLOW`, so a name swapped for a
//! symlink after resolution is not followed. A file that shrank under the answer ends the
//! connection (the length was promised). `sendfile` from a file not in the page cache blocks the
//! worker for the disk read, as nginx's does without `aio threads`; images are read often and
//! stay cached.
//!
//! The send buffer is fixed ([`HttpOptions::send_buffer`], 512 KiB by default, which Linux
//! doubles) rather than left to autotuning: with autotuning each connection's buffer grows to
//! megabytes, `sendfile` pushes that much ahead of a slow reader, and with many downloads at
//! once the receivers spend their time pruning and collapsing queues (measured: 32 curl
//! clients on loopback got 0.75× nginx's throughput with autotuning, 1.0× with 512 KiB).
//! 1 MiB in flight still fills a 1 Gbit/s management port up to 8 ms of round trip.
//!
//! An image object's body (see [`super::objects`]) goes out in pieces fetched from the store one
//! ahead of the socket; its first piece is fetched before the head, so a store that fails or an
//! object replaced since it was listed is answered 502 or 404, not with a head whose length the
//! body would break.
//!
//! Shutdown: the listener closes, idle connections close at once, answers in flight finish
//! (with `Connection: close`) within [`HttpOptions::shutdown_grace`], and the rest are cut.

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustix::net::SendFlags;
use sonde_schema::row::now_us;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::{debug, warn};

use super::event::{Outcome, Sent};
use super::objects::{ImageObjects, pieces};
use super::request::{BodyFraming, Head, HeadError, Request, parse_head};
use super::response::{Body, Response};
use super::{HttpOptions, Shared};
use crate::codes;

/// Largest count passed to one `sendfile` call (Linux sends at most 0x7ffff000 a call).
const SENDFILE_MAX: u64 = 0x7fff_f000;
/// The read buffer's first size; it grows up to the head limit.
const FIRST_BUFFER: usize = 4096;
/// After refusing a head: how long, and how much, the client's further bytes are read and
/// dropped before the socket closes.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1 << 20;

pub(super) async fn run(
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> crate::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(shared.options.max_connections.max(1)));
    let mut tasks = JoinSet::new();
    let refresher = shared.objects.clone().map(|objects| {
        let stopped = stopped.clone();
        tokio::spawn(async move { objects.keep_fresh(stopped).await })
    });
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while tasks.try_join_next().is_some() {}
        match accepted {
            Ok((stream, client)) => {
                let shared = Arc::clone(&shared);
                let stopped = stopped.clone();
                tasks.spawn(async move {
                    Connection::new(&shared, stream, client, stopped)
                        .serve()
                        .await;
                    drop(permit);
                });
            }
            Err(error) => {
                // Out of descriptors and the like: wait a little rather than spin.
                warn!(%error, "ZTP HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    stop.send_replace(true);
    if let Some(refresher) = refresher {
        let _ = refresher.await;
    }
    let grace = shared.options.shutdown_grace;
    let drained = timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        debug!(left = tasks.len(), "ZTP HTTP connections cut at shutdown");
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Ok(())
}

/// What reading the next head gave.
enum Next {
    Head(Box<Head>),
    /// The peer closed, went idle too long, or the server is stopping between requests.
    Closed,
    /// A head that cannot be answered normally: 400, 431, or 408 for a head that took too long.
    Refused(u16, &'static str),
}

struct Connection<'a> {
    shared: &'a Shared,
    options: &'a HttpOptions,
    stream: TcpStream,
    client: SocketAddr,
    stopped: watch::Receiver<bool>,
    /// Bytes read and not yet consumed: `buf[..filled]`.
    buf: Vec<u8>,
    filled: usize,
    /// The head being written.
    out: Vec<u8>,
}

impl<'a> Connection<'a> {
    fn new(
        shared: &'a Shared,
        stream: TcpStream,
        client: SocketAddr,
        stopped: watch::Receiver<bool>,
    ) -> Connection<'a> {
        let _ = stream.set_nodelay(true);
        if let Some(size) = shared.options.send_buffer {
            let _ = socket2::SockRef::from(&stream).set_send_buffer_size(size);
        }
        Connection {
            shared,
            options: &shared.options,
            stream,
            client,
            stopped,
            buf: vec![0; FIRST_BUFFER.min(shared.options.head_limit.max(1))],
            filled: 0,
            out: Vec::with_capacity(512),
        }
    }

    async fn serve(mut self) {
        loop {
            let keep = match self.next_head().await {
                Next::Head(head) => self.answer(*head).await,
                Next::Closed => false,
                Next::Refused(status, message) => {
                    self.refuse(status, message).await;
                    false
                }
            };
            if !keep {
                return;
            }
        }
    }

    /// Reads until a whole head is buffered.
    async fn next_head(&mut self) -> Next {
        let mut first_byte = Instant::now();
        loop {
            if self.filled > 0 {
                match parse_head(&self.buf[..self.filled], self.options.max_headers) {
                    Ok(Some(head)) => {
                        self.consume(head.len);
                        return Next::Head(Box::new(head));
                    }
                    Ok(None) if self.filled >= self.options.head_limit => {
                        return Next::Refused(431, "request head over the limit");
                    }
                    Ok(None) => {}
                    Err(HeadError::TooLarge) => {
                        return Next::Refused(431, "too many header fields");
                    }
                    Err(HeadError::Malformed) => {
                        return Next::Refused(400, "malformed request head");
                    }
                }
            } else if *self.stopped.borrow() {
                return Next::Closed;
            }
            let idle = self.filled == 0;
            let deadline = if idle {
                tokio::time::Instant::now() + self.options.idle_timeout
            } else {
                tokio::time::Instant::from_std(first_byte + self.options.head_timeout)
            };
            if self.filled == self.buf.len() {
                let grown = (self.buf.len() * 2).min(self.options.head_limit);
                self.buf.resize(grown.max(self.filled + 1), 0);
            }
            let read = tokio::select! {
                biased;
                _ = self.stopped.changed(), if idle => return Next::Closed,
                read = tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf[self.filled..])) => read,
            };
            match read {
                Err(_) if idle => return Next::Closed,
                Err(_) => return Next::Refused(408, "request head not received in time"),
                Ok(Ok(0) | Err(_)) => return Next::Closed,
                Ok(Ok(n)) => {
                    if idle {
                        first_byte = Instant::now();
                    }
                    self.filled += n;
                }
            }
        }
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.filled);
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Answers one request; whether the connection stays open.
    async fn answer(&mut self, head: Head) -> bool {
        let started = Instant::now();
        let at = now_us();
        if let BodyFraming::Skip(len) = head.body
            && !self.skip_body(len, started).await
        {
            return false;
        }
        let (response, outcome) = self.shared.route(&head.request, self.client);
        let keep = head.keep_alive && !*self.stopped.borrow();
        let (status, bytes, ok) = self.send(&response, keep).await;
        let sent = Sent {
            status,
            bytes,
            duration_us: elapsed_us(started),
        };
        self.shared
            .record(&head.request, self.client, at, &outcome, sent);
        keep && ok
    }

    /// Reads and drops a request body of `len` bytes; false when it does not arrive in time.
    async fn skip_body(&mut self, len: u64, started: Instant) -> bool {
        let buffered = usize::try_from(len).unwrap_or(usize::MAX).min(self.filled);
        self.consume(buffered);
        let mut left = len - buffered as u64;
        let deadline = tokio::time::Instant::from_std(started + self.options.head_timeout);
        while left > 0 {
            let want = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.buf.len());
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf[..want]));
            match read.await {
                Ok(Ok(n)) if n > 0 => left -= n as u64,
                _ => return false,
            }
        }
        true
    }

    /// Answers a head that could not be taken, records it, and leaves the connection to close.
    async fn refuse(&mut self, status: u16, message: &'static str) {
        let started = Instant::now();
        let at = now_us();
        let response = Response::status(status);
        let (status, bytes, _) = self.send(&response, false).await;
        let outcome = Outcome::new("none", codes::HTTP_BAD_REQUEST, message);
        let sent = Sent {
            status,
            bytes,
            duration_us: elapsed_us(started),
        };
        self.shared
            .record(&Request::default(), self.client, at, &outcome, sent);
        self.linger().await;
    }

    /// Closes our side and reads what the client still sends for a moment, so the answer is
    /// not lost to a reset from unread bytes (nginx's lingering close).
    async fn linger(&mut self) {
        let _ = self.stream.shutdown().await;
        let deadline = tokio::time::Instant::now() + LINGER;
        let mut left = LINGER_BYTES;
        while left > 0 {
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut self.buf));
            match read.await {
                Ok(Ok(n)) if n > 0 => left = left.saturating_sub(n),
                _ => return,
            }
        }
    }

    /// Writes `response`: the status sent, body bytes written, and whether all went out.
    async fn send(&mut self, response: &Response, keep: bool) -> (u16, u64, bool) {
        let date = httpdate::fmt_http_date(SystemTime::now());
        match &response.body {
            Body::Empty => {
                response.write_head(&mut self.out, &date, keep);
                let ok = self.write_all(false).await.is_ok();
                (response.status, 0, ok)
            }
            Body::Bytes(bytes) => {
                response.write_head(&mut self.out, &date, keep);
                self.out.extend_from_slice(bytes);
                let ok = self.write_all(false).await.is_ok();
                (response.status, if ok { bytes.len() as u64 } else { 0 }, ok)
            }
            Body::Object {
                location,
                store_etag,
                offset,
                len,
            } => {
                self.send_object(
                    response,
                    keep,
                    location,
                    store_etag.as_deref(),
                    *offset,
                    *len,
                )
                .await
            }
            Body::File { path, offset, len } => {
                let file = match open_nofollow(path) {
                    Ok(file) => file,
                    Err(error) => {
                        warn!(path = %path.display(), %error, "ZTP HTTP file vanished before sending");
                        return self.send_failure(500, &date).await;
                    }
                };
                response.write_head(&mut self.out, &date, keep);
                self.cork(true);
                if self.write_all(*len > 0).await.is_err() {
                    return (response.status, 0, false);
                }
                let (sent, result) = self.send_file(&file, *offset, *len).await;
                self.cork(false);
                (response.status, sent, result.is_ok())
            }
        }
    }

    /// Holds back partial segments while a file goes out (`TCP_CORK`, nginx's `tcp_nopush`), or
    /// lets them go with the rest at the end. Without it, each `sendfile` ends in a short
    /// segment pushed at once; one client on loopback got 0.3–0.75× nginx's throughput.
    fn cork(&self, on: bool) {
        let _ = rustix::net::sockopt::set_tcp_cork(&self.stream, on);
    }

    /// Writes `self.out`, with `MSG_MORE` when more follows at once.
    async fn write_all(&self, more: bool) -> io::Result<()> {
        self.write_bytes(&self.out, more).await
    }

    async fn write_bytes(&self, bytes: &[u8], more: bool) -> io::Result<()> {
        let flags = if more {
            SendFlags::NOSIGNAL | SendFlags::MORE
        } else {
            SendFlags::NOSIGNAL
        };
        let mut at = 0;
        while at < bytes.len() {
            let write = self.stream.async_io(Interest::WRITABLE, || {
                rustix::net::send(&self.stream, &bytes[at..], flags).map_err(io::Error::from)
            });
            at += within(self.options.write_timeout, write).await?;
        }
        Ok(())
    }

    /// Writes `response` whose body is an image object: the first piece is fetched before the
    /// head goes out, so an object removed or replaced since the catalogue listed it is a 404
    /// (and a store that fails is a 502) rather than a head whose length is not kept.
    async fn send_object(
        &mut self,
        response: &Response,
        keep: bool,
        location: &object_store::path::Path,
        store_etag: Option<&str>,
        offset: u64,
        len: u64,
    ) -> (u16, u64, bool) {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let Some(objects) = self.shared.objects.clone() else {
            return self.send_failure(500, &date).await;
        };
        let mut ranges = pieces(offset, len);
        let fetch = |range: std::ops::Range<u64>| {
            let objects = Arc::clone(&objects);
            let location = location.clone();
            let store_etag = store_etag.map(str::to_string);
            tokio::spawn(
                async move { objects.fetch(&location, store_etag.as_deref(), range).await },
            )
        };
        let mut ahead = ranges.next().map(fetch);
        let first = match ahead.take() {
            Some(task) => match joined(task).await {
                Ok(bytes) => Some(bytes),
                Err(error) => return self.object_failed(&objects, location, &error, &date).await,
            },
            None => None,
        };
        response.write_head(&mut self.out, &date, keep);
        if self.write_all(first.is_some()).await.is_err() {
            return (response.status, 0, false);
        }
        let mut sent = 0;
        let mut piece = first;
        while let Some(bytes) = piece {
            ahead = ranges.next().map(fetch);
            if self.write_bytes(&bytes, ahead.is_some()).await.is_err() {
                return (response.status, sent, false);
            }
            sent += bytes.len() as u64;
            piece = match ahead.take() {
                None => None,
                Some(task) => match joined(task).await {
                    Ok(bytes) => Some(bytes),
                    Err(error) => {
                        warn!(object = %location, %error, "ZTP image object failed mid-answer");
                        return (response.status, sent, false);
                    }
                },
            };
        }
        (response.status, sent, sent == len)
    }

    /// Answers a fetch that failed before the head: 404 for an object gone or replaced (whose
    /// catalogue is then listed again), 502 for a store that failed.
    async fn object_failed(
        &mut self,
        objects: &ImageObjects,
        location: &object_store::path::Path,
        error: &object_store::Error,
        date: &str,
    ) -> (u16, u64, bool) {
        let gone = matches!(
            error,
            object_store::Error::NotFound { .. } | object_store::Error::Precondition { .. }
        );
        let status = if gone { 404 } else { 502 };
        warn!(object = %location, %error, status, "ZTP image object not fetched");
        let failed = self.send_failure(status, date).await;
        if gone && let Err(error) = objects.refresh().await {
            warn!(%error, "ZTP image catalogue not refreshed");
        }
        failed
    }

    /// Answers `status` in place of a body that cannot be sent, closing the connection.
    async fn send_failure(&mut self, status: u16, date: &str) -> (u16, u64, bool) {
        let failed = Response::status(status);
        failed.write_head(&mut self.out, date, false);
        if let Body::Bytes(text) = &failed.body {
            self.out.extend_from_slice(text);
        }
        let _ = self.write_all(false).await;
        (status, 0, false)
    }

    /// Sends `len` bytes of `file` from `offset`: the bytes sent, and how it ended.
    async fn send_file(&self, file: &File, offset: u64, len: u64) -> (u64, io::Result<()>) {
        let mut position = offset;
        let end = offset.saturating_add(len);
        while position < end {
            let count = usize::try_from((end - position).min(SENDFILE_MAX)).unwrap_or(1 << 30);
            let write = self.stream.async_io(Interest::WRITABLE, || {
                rustix::fs::sendfile(&self.stream, file, Some(&mut position), count)
                    .map_err(io::Error::from)
            });
            match within(self.options.write_timeout, write).await {
                Ok(0) => {
                    let shrank = io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank");
                    return (position - offset, Err(shrank));
                }
                Ok(_) => {}
                Err(error) => return (position - offset, Err(error)),
            }
        }
        (position - offset, Ok(()))
    }
}

/// A fetch task's result, a panicked task being a store error like any other.
async fn joined(
    task: tokio::task::JoinHandle<object_store::Result<bytes::Bytes>>,
) -> object_store::Result<bytes::Bytes> {
    task.await.unwrap_or_else(|e| {
        Err(object_store::Error::Generic {
            store: "ztp images",
            source: Box::new(e),
        })
    })
}

/// `write` within `limit`, a timeout being an error like any other.
async fn within<T>(
    limit: Duration,
    write: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match timeout(limit, write).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "write made no progress",
        )),
    }
}

fn open_nofollow(path: &std::path::Path) -> io::Result<File> {
    let flags = rustix::fs::OFlags::NOFOLLOW.bits();
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(i32::try_from(flags).unwrap_or(0))
        .open(path)
}

fn elapsed_us(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}
