//! Responses: the [`Response`] the routing core gives, its [`Body`] (nothing, bytes, a byte
//! range of a file the connection loop hands to `sendfile`, or a byte range of an image object
//! it streams from the store), and the head's wire form.
//!
//! Every response carries its own `Content-Length` (a HEAD answer the length a GET would
//! send), so the connection loop never counts a body to frame it. `Date` and `Server` are
//! added on the wire, with the `Connection` field the loop decides.

use std::path::PathBuf;

use bytes::Bytes;

/// What follows the head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Empty,
    Bytes(Bytes),
    /// `len` bytes of the file at `path` (canonical, already checked to be inside a served
    /// root) starting at `offset`.
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
    /// `len` bytes of the image store's object at `location` starting at `offset`, fetched
    /// only while the object still has `store_etag`.
    Object {
        location: object_store::path::Path,
        store_etag: Option<String>,
        offset: u64,
        len: u64,
    },
}

impl Body {
    /// Bytes the body holds.
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty => 0,
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::File { len, .. } | Body::Object { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Header fields besides `Date`, `Server` and `Connection`.
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    /// A response with a short text body (errors, for a person reading curl's output).
    pub fn text(status: u16, text: &str) -> Response {
        let body = format!("{text}\n");
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), "text/plain; charset=utf-8".into()),
                ("Content-Length".into(), body.len().to_string()),
            ],
            body: Body::Bytes(Bytes::from(body)),
        }
    }

    /// A status with its reason phrase as the text body.
    pub fn status(status: u16) -> Response {
        Response::text(status, reason(status))
    }

    /// `301` to `location`.
    pub fn redirect(location: &str) -> Response {
        let mut response = Response::status(301);
        response.headers.push(("Location".into(), location.into()));
        response
    }

    /// `self` with one more header field.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The answer to a HEAD request: the same head, no body.
    pub fn without_body(mut self) -> Response {
        self.body = Body::Empty;
        self
    }

    /// The head on the wire, into `out` (cleared first).
    pub fn write_head(&self, out: &mut Vec<u8>, date: &str, keep_alive: bool) {
        out.clear();
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(self.status.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(reason(self.status).as_bytes());
        out.extend_from_slice(b"\r\nServer: sonde\r\nDate: ");
        out.extend_from_slice(date.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.headers {
            // A value is never allowed to end the head or add a field.
            let value = value.replace(['\r', '\n'], " ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(if keep_alive {
            b"Connection: keep-alive\r\n\r\n".as_slice()
        } else {
            b"Connection: close\r\n\r\n".as_slice()
        });
    }
}

/// The reason phrase of the statuses Sonde sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_written_as_the_wire_expects() {
        let mut out = Vec::new();
        Response::redirect("http://pkg.example/x").write_head(
            &mut out,
            "Thu, 03 Dec 2026 05:00:00 GMT",
            false,
        );
        let expected = "HTTP/1.1 301 Moved Permanently\r\n\
                        Server: sonde\r\n\
                        Date: Thu, 03 Dec 2026 05:00:00 GMT\r\n\
                        Content-Type: text/plain; charset=utf-8\r\n\
                        Content-Length: 18\r\n\
                        Location: http://pkg.example/x\r\n\
                        Connection: close\r\n\r\n";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn a_value_cannot_inject_a_field() {
        let mut out = Vec::new();
        Response::redirect("http://a/\r\nSet-Cookie: x").write_head(&mut out, "d", true);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Location: http://a/  Set-Cookie: x\r\n"));
        assert!(!text.contains("\r\nSet-Cookie"));
    }

    #[test]
    fn a_head_answer_keeps_its_length_and_drops_its_body() {
        let response = Response::status(404).without_body();
        assert_eq!(response.get("content-length"), Some("10"));
        assert!(response.body.is_empty());
    }
}
