//! Files: resolving a name under a served root so that nothing reaches outside it, and
//! answering a file with its validators (ETag, Last-Modified), conditionals and one Range.
//!
//! Resolution is lexical first, then physical. A name (already percent-decoded once) is
//! refused when it is empty, absolute, holds a backslash or NUL, or has an empty, `.` or `..`
//! segment. The joined path is then canonicalised and must lie inside the canonical root: a
//! symlink inside `images/` pointing elsewhere inside `images/` is fine, one pointing out is
//! refused. Directories are not files (no listings).
//!
//! Validators: the strong ETag is `"<size>-<mtime ns>-<inode>"` in hex, quoted; Last-Modified
//! is the mtime. `If-None-Match` (weak comparison, `*` too) wins over `If-Modified-Since`
//! (RFC 9110 §13.2.2); either gives 304. `If-Range` with a different ETag or date drops the
//! Range. One range `bytes=a-b`, `a-` or `-n` gives 206 with `Content-Range`; a range starting
//! past the end (or `-0`) gives 416 with `Content-Range: bytes */len`. Several ranges are
//! answered with the whole file (200): RFC 9110 §14.2 lets a server ignore Range, installers
//! resume with one range, and a multipart body cannot be sent with one `sendfile`. A Range
//! that does not parse is ignored the same way.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::request::Request;
use super::response::{Body, Response};

/// Why a name resolved to no file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The name itself is not allowed (`..`, absolute, backslash, NUL, empty segment).
    BadName,
    /// The name resolves outside the root (a symlink out).
    Outside,
    /// No such file (or it is not a regular file).
    Missing,
    /// The file exists but cannot be examined.
    Unreadable(String),
}

/// A regular file inside a served root.
#[derive(Debug, Clone)]
pub struct Found {
    /// Canonical path.
    pub path: PathBuf,
    pub len: u64,
    pub modified: SystemTime,
    pub inode: u64,
}

impl Found {
    fn of(path: PathBuf, meta: &Metadata) -> Found {
        Found {
            path,
            len: meta.len(),
            modified: meta.modified().unwrap_or(UNIX_EPOCH),
            inode: meta.ino(),
        }
    }

    /// The strong validator.
    pub fn etag(&self) -> String {
        let nanos = self
            .modified
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        format!("\"{:x}-{:x}-{:x}\"", self.len, nanos, self.inode)
    }

    /// The file as an answerable entity.
    pub fn entity(&self) -> Entity {
        Entity {
            len: self.len,
            etag: self.etag(),
            modified: whole_seconds(self.modified),
            source: Source::File(self.path.clone()),
        }
    }
}

/// `time` to whole seconds, the precision of HTTP dates (Last-Modified).
pub fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Something answered with validators and ranges: a file under a root, or an image object.
#[derive(Debug, Clone)]
pub struct Entity {
    pub len: u64,
    /// Strong, quoted.
    pub etag: String,
    /// Whole seconds.
    pub modified: SystemTime,
    pub source: Source,
}

/// Where an entity's bytes are.
#[derive(Debug, Clone)]
pub enum Source {
    /// A canonical path inside a served root.
    File(PathBuf),
    /// An object of the image store, with the store's ETag its bytes must still carry.
    Object {
        location: object_store::path::Path,
        store_etag: Option<String>,
    },
}

/// Whether `name` may be looked up under a root at all.
pub fn name_allowed(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains(['\\', '\0'])
        && name
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// The regular file `name` names under `root`, never outside it.
pub fn resolve(root: &Path, name: &str) -> Result<Found, Refusal> {
    if !name_allowed(name) {
        return Err(Refusal::BadName);
    }
    let root = std::fs::canonicalize(root).map_err(|_| Refusal::Missing)?;
    let path = match std::fs::canonicalize(root.join(name)) {
        Ok(path) => path,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
        Err(e) => return Err(Refusal::Unreadable(e.to_string())),
    };
    if !path.starts_with(&root) || path == root {
        return Err(Refusal::Outside);
    }
    let meta = std::fs::metadata(&path).map_err(|e| Refusal::Unreadable(e.to_string()))?;
    if !meta.is_file() {
        return Err(Refusal::Missing);
    }
    Ok(Found::of(path, &meta))
}

/// One satisfiable byte range, inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

/// What a Range field asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// No usable Range: the whole file.
    Whole,
    One(ByteRange),
    Unsatisfiable,
}

/// Parses a `Range` value against a file of `len` bytes (RFC 9110 §14.1.2).
pub fn parse_range(value: &str, len: u64) -> RangeAsk {
    let Some((unit, set)) = value.trim().split_once('=') else {
        return RangeAsk::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let number = |text: &str| {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        (true, _, Some(0)) => RangeAsk::Unsatisfiable,
        (true, _, Some(_)) if len == 0 => RangeAsk::Unsatisfiable,
        (true, _, Some(suffix)) => RangeAsk::One(ByteRange {
            first: len.saturating_sub(suffix),
            last: len - 1,
        }),
        (false, Some(first), None) if last.trim().is_empty() => satisfiable(first, u64::MAX, len),
        (false, Some(first), Some(last)) if first <= last => satisfiable(first, last, len),
        _ => RangeAsk::Whole,
    }
}

fn satisfiable(first: u64, last: u64, len: u64) -> RangeAsk {
    if first >= len {
        RangeAsk::Unsatisfiable
    } else {
        RangeAsk::One(ByteRange {
            first,
            last: last.min(len - 1),
        })
    }
}

/// The answer to a GET (or HEAD: the caller drops the body) of `entity` under `request`'s
/// conditionals and Range.
pub fn answer(request: &Request, entity: &Entity, content_type: &str) -> Response {
    let etag = &entity.etag;
    let modified = entity.modified;
    let validators = |response: Response| {
        response
            .with("ETag", etag.clone())
            .with("Last-Modified", httpdate::fmt_http_date(modified))
            .with("Accept-Ranges", "bytes")
    };
    if not_modified(request, etag, modified) {
        return validators(Response {
            status: 304,
            headers: Vec::new(),
            body: Body::Empty,
        });
    }
    let ask = match request.get("range") {
        Some(range) if if_range_holds(request, etag, modified) => parse_range(range, entity.len),
        _ => RangeAsk::Whole,
    };
    let whole = |status: u16, offset: u64, len: u64| Response {
        status,
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            ("Content-Length".into(), len.to_string()),
        ],
        body: body_of(&entity.source, offset, len),
    };
    match ask {
        RangeAsk::Whole => validators(whole(200, 0, entity.len)),
        RangeAsk::One(range) => {
            let len = range.last - range.first + 1;
            validators(whole(206, range.first, len)).with(
                "Content-Range",
                format!("bytes {}-{}/{}", range.first, range.last, entity.len),
            )
        }
        RangeAsk::Unsatisfiable => validators(Response::status(416))
            .with("Content-Range", format!("bytes */{}", entity.len)),
    }
}

fn body_of(source: &Source, offset: u64, len: u64) -> Body {
    match source {
        Source::File(path) => Body::File {
            path: path.clone(),
            offset,
            len,
        },
        Source::Object {
            location,
            store_etag,
        } => Body::Object {
            location: location.clone(),
            store_etag: store_etag.clone(),
            offset,
            len,
        },
    }
}

/// Whether the conditionals make this a 304.
fn not_modified(request: &Request, etag: &str, modified: SystemTime) -> bool {
    if let Some(tags) = request.get("if-none-match") {
        return tags.split(',').any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    }
    request
        .get("if-modified-since")
        .and_then(|date| httpdate::parse_http_date(date).ok())
        .is_some_and(|since| modified <= since)
}

/// Whether a Range may be honoured under `If-Range` (absent, or matching).
fn if_range_holds(request: &Request, etag: &str, modified: SystemTime) -> bool {
    match request.get("if-range") {
        None => true,
        Some(value) if value.starts_with('"') => value == etag,
        Some(value) => httpdate::parse_http_date(value).is_ok_and(|date| date == modified),
    }
}

/// A content type from the file name: what installers and configs are.
pub fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("json") => "application/json",
        Some("sh" | "txt" | "conf" | "cfg") => "text/plain; charset=utf-8",
        Some("yaml" | "yml") => "application/yaml",
        Some("xml") => "application/xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LEN: u64 = 1000;

    fn one(first: u64, last: u64) -> RangeAsk {
        RangeAsk::One(ByteRange { first, last })
    }

    #[test]
    fn single_ranges_of_each_form() {
        assert_eq!(parse_range("bytes=0-99", LEN), one(0, 99));
        assert_eq!(parse_range("bytes=900-", LEN), one(900, 999));
        assert_eq!(parse_range("bytes=-100", LEN), one(900, 999));
        assert_eq!(parse_range("bytes=-5000", LEN), one(0, 999));
        assert_eq!(parse_range("bytes=990-5000", LEN), one(990, 999));
        assert_eq!(parse_range(" Bytes = 999-999 ", LEN), one(999, 999));
    }

    #[test]
    fn unsatisfiable_and_ignored_ranges() {
        assert_eq!(parse_range("bytes=1000-", LEN), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", LEN), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=-1", 0), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", LEN), RangeAsk::Whole);
        assert_eq!(parse_range("bytes=5-1", LEN), RangeAsk::Whole);
        assert_eq!(parse_range("bytes=a-b", LEN), RangeAsk::Whole);
        assert_eq!(parse_range("bytes=+1-2", LEN), RangeAsk::Whole);
        assert_eq!(parse_range("items=0-1", LEN), RangeAsk::Whole);
        assert_eq!(parse_range("bytes=-", LEN), RangeAsk::Whole);
        assert_eq!(
            parse_range("bytes=99999999999999999999999-", LEN),
            RangeAsk::Whole
        );
    }

    #[test]
    fn names_that_could_leave_the_root_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\\..\\b",
            "a\0b",
            "..",
            "a/",
        ] {
            assert!(!name_allowed(bad), "{bad:?}");
        }
        for good in ["onie-installer.bin", "sub/dir/file", "a..b", ".hidden"] {
            assert!(name_allowed(good), "{good:?}");
        }
    }

    #[test]
    fn symlinks_resolve_only_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("images");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("real.bin"), b"x").unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(root.join("real.bin"), root.join("inside")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("outside")).unwrap();
        std::os::unix::fs::symlink("/", root.join("slash")).unwrap();
        assert_eq!(resolve(&root, "inside").unwrap().len, 1);
        assert_eq!(resolve(&root, "outside").unwrap_err(), Refusal::Outside);
        assert_eq!(
            resolve(&root, "slash/etc/hostname").unwrap_err(),
            Refusal::Outside
        );
        assert_eq!(resolve(&root, "absent").unwrap_err(), Refusal::Missing);
        std::fs::create_dir(root.join("sub")).unwrap();
        assert_eq!(resolve(&root, "sub").unwrap_err(), Refusal::Missing);
    }

    #[test]
    fn conditionals_and_validators() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), vec![7u8; 1000]).unwrap();
        let file = resolve(dir.path(), "f").unwrap().entity();
        let etag = file.etag.clone();
        let get = Request::new("GET", "/f");
        assert_eq!(answer(&get, &file, "x").status, 200);
        let matching = get
            .clone()
            .header("If-None-Match", format!("\"zz\", W/{etag}"));
        assert_eq!(answer(&matching, &file, "x").status, 304);
        let other = get.clone().header("If-None-Match", "\"other\"");
        assert_eq!(answer(&other, &file, "x").status, 200);
        let later = httpdate::fmt_http_date(file.modified + Duration::from_secs(5));
        let since = get.clone().header("If-Modified-Since", later);
        assert_eq!(answer(&since, &file, "x").status, 304);
        let range = get.clone().header("Range", "bytes=10-19");
        let partial = answer(&range, &file, "x");
        assert_eq!(partial.status, 206);
        assert_eq!(partial.get("content-range"), Some("bytes 10-19/1000"));
        assert_eq!(partial.get("content-length"), Some("10"));
        let stale = range.clone().header("If-Range", "\"stale\"");
        assert_eq!(answer(&stale, &file, "x").status, 200);
        let fresh = range.header("If-Range", etag);
        assert_eq!(answer(&fresh, &file, "x").status, 206);
        let past = get.header("Range", "bytes=1000-");
        let refused = answer(&past, &file, "x");
        assert_eq!(refused.status, 416);
        assert_eq!(refused.get("content-range"), Some("bytes */1000"));
    }
}
