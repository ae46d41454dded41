//! Requests: the [`Request`] the routing core answers, and the parsing of a request head off
//! the wire (request line and header fields, RFC 9112 §2–§5) with `httparse`, under the
//! server's limits.
//!
//! Choices where the RFC leaves room: a head larger than the limit or with more header fields
//! than allowed is answered 431; any other malformed head 400. The origin form (`/path?query`)
//! and the absolute form (`http://host/path`, which RFC 9112 §3.2.2 says a server must accept)
//! are taken; the authority and asterisk forms are 400. Request bodies are not read: a
//! `Content-Length` body up to [`BODY_DISCARD_LIMIT`] is skipped so the connection can be
//! reused; a larger one, a chunked one or one behind `Expect: 100-continue` closes the
//! connection after the answer.

use percent_encoding::percent_decode_str;

/// A body this long (or shorter) is read and thrown away; a longer one closes the connection.
pub const BODY_DISCARD_LIMIT: u64 = 1 << 20;

/// One HTTP request as the routing core sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, …: case-sensitive, as sent.
    pub method: String,
    /// The request target as sent (origin form), query included: `/ztp/config/ctrld?x=1`.
    pub path: String,
    /// Header fields in the order sent, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// A request with no header fields.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
        }
    }

    /// `self` with one more header field.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first value of header `name` (case-insensitive), trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    /// The first non-empty value among `names`, in that order.
    pub fn first_of(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .filter_map(|name| self.get(name))
            .find(|v| !v.is_empty())
    }

    /// The target's path without its query, percent-decoded once; `None` when it does not
    /// decode to UTF-8 or holds a NUL.
    pub fn decoded_path(&self) -> Option<String> {
        let raw = self.path.split(['?', '#']).next().unwrap_or_default();
        let decoded = percent_decode_str(raw).decode_utf8().ok()?;
        (!decoded.contains('\0')).then(|| decoded.into_owned())
    }
}

/// Why a head could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Malformed: 400.
    Malformed,
    /// Over the size or field-count limit: 431.
    TooLarge,
}

impl HeadError {
    pub fn status(self) -> u16 {
        match self {
            HeadError::Malformed => 400,
            HeadError::TooLarge => 431,
        }
    }
}

/// What follows a head on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body.
    None,
    /// A body of this many bytes, skipped before the next request.
    Skip(u64),
    /// A body whose end cannot be found cheaply: the connection closes after the answer.
    Close,
}

/// A parsed head: the request, how long the head was, and the connection's framing facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub request: Request,
    /// Bytes of the head, final CRLF CRLF included.
    pub len: usize,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub keep_alive: bool,
    pub body: BodyFraming,
}

/// Parses a head from the start of `buf`. `Ok(None)`: more bytes are needed.
pub fn parse_head(buf: &[u8], max_headers: usize) -> Result<Option<Head>, HeadError> {
    let mut fields = vec![httparse::EMPTY_HEADER; max_headers];
    let mut parsed = httparse::Request::new(&mut fields);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Malformed),
    };
    let (Some(method), Some(target), Some(minor)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(HeadError::Malformed);
    };
    let path = origin_form(target).ok_or(HeadError::Malformed)?;
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let request = Request {
        method: method.to_string(),
        path,
        headers,
    };
    let body = body_framing(&request)?;
    let keep_alive = keep_alive(&request, minor) && body != BodyFraming::Close;
    Ok(Some(Head {
        request,
        len,
        minor,
        keep_alive,
        body,
    }))
}

/// The origin form of a target: itself, or the path of an absolute form (`/` when empty).
fn origin_form(target: &str) -> Option<String> {
    if target.starts_with('/') {
        return Some(target.to_string());
    }
    let lower = target.get(..8).map(str::to_ascii_lowercase)?;
    let rest = if lower.starts_with("http://") {
        &target[7..]
    } else if lower.starts_with("https://") {
        &target[8..]
    } else {
        return None;
    };
    match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => Some(rest[at..].to_string()),
        Some(at) => Some(format!("/{}", &rest[at..])),
        None => Some("/".to_string()),
    }
}

/// Whether the connection stays open after the answer (RFC 9112 §9.3).
fn keep_alive(request: &Request, minor: u8) -> bool {
    let tokens = |token: &str| {
        request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if minor == 0 {
        tokens("keep-alive") && !tokens("close")
    } else {
        !tokens("close")
    }
}

/// How the request's body is delimited (RFC 9112 §6.3).
fn body_framing(request: &Request) -> Result<BodyFraming, HeadError> {
    if request.get("transfer-encoding").is_some() {
        return Ok(BodyFraming::Close);
    }
    let mut lengths = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim());
    let Some(first) = lengths.next() else {
        return Ok(BodyFraming::None);
    };
    if lengths.any(|other| other != first) || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeadError::Malformed);
    }
    let length: u64 = first.parse().map_err(|_| HeadError::Malformed)?;
    let expects = request
        .get("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    Ok(match length {
        0 => BodyFraming::None,
        _ if expects || length > BODY_DISCARD_LIMIT => BodyFraming::Close,
        n => BodyFraming::Skip(n),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> Result<Option<Head>, HeadError> {
        parse_head(bytes, 64)
    }

    #[test]
    fn a_complete_head_is_parsed_with_its_length() {
        let wire = b"GET /ztp/config/ctrld HTTP/1.1\r\nHost: ztp\r\nONIE-SERIAL-NUMBER: 591654XK1902037\r\n\r\nNEXT";
        let parsed = head(wire).unwrap().unwrap();
        assert_eq!(parsed.len, wire.len() - 4);
        assert_eq!(parsed.request.method, "GET");
        assert_eq!(parsed.request.path, "/ztp/config/ctrld");
        assert_eq!(
            parsed.request.get("onie-serial-number"),
            Some("591654XK1902037")
        );
        assert!(parsed.keep_alive);
        assert_eq!(parsed.body, BodyFraming::None);
    }

    #[test]
    fn a_partial_head_asks_for_more() {
        assert_eq!(head(b"GET /ztp/image HTTP/1.1\r\nHost: z").unwrap(), None);
        assert_eq!(head(b"").unwrap(), None);
    }

    #[test]
    fn malformed_heads_are_400_and_too_many_fields_431() {
        assert_eq!(head(b"GET\r\n\r\n"), Err(HeadError::Malformed));
        assert_eq!(head(b"GET / HTTP/2.0\r\n\r\n"), Err(HeadError::Malformed));
        assert_eq!(head(b"GET * HTTP/1.1\r\n\r\n"), Err(HeadError::Malformed));
        assert_eq!(
            head(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"),
            Err(HeadError::Malformed)
        );
        let many: String = (0..70).map(|i| format!("X-{i}: y\r\n")).collect();
        let wire = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(head(wire.as_bytes()), Err(HeadError::TooLarge));
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_field() {
        let ka = |wire: &[u8]| head(wire).unwrap().unwrap().keep_alive;
        assert!(ka(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn bodies_are_skipped_or_close_the_connection() {
        let framing = |wire: &[u8]| head(wire).map(|h| h.map(|h| (h.body, h.keep_alive)));
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
            Ok(Some((BodyFraming::Skip(5), true)))
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(Some((BodyFraming::Close, false)))
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
            Ok(Some((BodyFraming::Close, false)))
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Err(HeadError::Malformed)
        );
        assert_eq!(
            framing(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Err(HeadError::Malformed)
        );
    }

    #[test]
    fn the_absolute_form_becomes_the_origin_form() {
        let path = |wire: &[u8]| head(wire).unwrap().unwrap().request.path;
        assert_eq!(
            path(b"GET http://ztp.example/ztp/image?a=1 HTTP/1.1\r\n\r\n"),
            "/ztp/image?a=1"
        );
        assert_eq!(path(b"GET HTTP://ztp.example HTTP/1.1\r\n\r\n"), "/");
        assert_eq!(path(b"GET http://ztp.example?q HTTP/1.1\r\n\r\n"), "/?q");
    }

    #[test]
    fn paths_are_decoded_once_without_their_query() {
        let decoded = |p: &str| Request::new("GET", p).decoded_path();
        assert_eq!(
            decoded("/images/%2e%2e%2fx?y=%2f").as_deref(),
            Some("/images/../x")
        );
        assert_eq!(decoded("/images/%252e").as_deref(), Some("/images/%2e"));
        assert_eq!(decoded("/images/a%00b"), None);
        assert_eq!(decoded("/images/%ff"), None);
    }
}
