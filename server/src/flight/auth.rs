//! Who may call the Flight service: bearer tokens with what each allows (an admin token for
//! everything, a read token for analysts, a write token for agents), checked on every call, and
//! the TLS identity the endpoint presents when it has one.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tonic::metadata::MetadataMap;
use tonic::transport::{Identity, ServerTlsConfig};
use tonic::{Request, Status};

/// The tokens the endpoint accepts. With none set, Flight is open to anyone who can reach it.
#[derive(Clone, Default)]
pub struct Tokens {
    /// Allows every call.
    pub admin: Option<String>,
    /// Allows queries and the catalog calls, not writes.
    pub read: Option<String>,
    /// Allows DoPut and the store's actions (flush, maintain), not queries.
    pub write: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |t: &Option<String>| if t.is_some() { "set" } else { "unset" };
        f.debug_struct("Tokens")
            .field("admin", &set(&self.admin))
            .field("read", &set(&self.read))
            .field("write", &set(&self.write))
            .finish()
    }
}

impl Tokens {
    /// Only an admin token (the `--token` of earlier releases).
    pub fn admin(token: Option<String>) -> Self {
        Tokens {
            admin: token,
            ..Tokens::default()
        }
    }

    fn configured(&self) -> impl Iterator<Item = (&str, Grant)> {
        [
            (&self.admin, Grant::ALL),
            (&self.read, Grant::READ),
            (&self.write, Grant::WRITE),
        ]
        .into_iter()
        .filter_map(|(token, grant)| {
            token
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| (t, grant))
        })
    }

    pub fn any(&self) -> bool {
        self.configured().next().is_some()
    }

    /// What `presented` allows, if it is one of the tokens.
    fn grant_of(&self, presented: &str) -> Option<Grant> {
        self.configured()
            .filter(|(token, _)| constant_time_eq(presented.as_bytes(), token.as_bytes()))
            .map(|(_, grant)| grant)
            .reduce(Grant::union)
    }

    /// The interceptor's check: the call's token, attached to the request as its [`Grant`]
    /// (with the secret, so a Basic handshake can answer it as a bearer token).
    pub fn check(&self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if !self.any() {
            request.extensions_mut().insert(Grant::ALL);
            return Ok(request);
        }
        let presented = presented_secret(request.metadata());
        let grant = presented.as_deref().and_then(|p| self.grant_of(p));
        match (grant, presented) {
            (Some(grant), Some(secret)) => {
                request.extensions_mut().insert(grant);
                request.extensions_mut().insert(Secret(secret));
                Ok(request)
            }
            _ => Err(Status::unauthenticated(
                "a valid token is required (authorization: Bearer <token>)",
            )),
        }
    }
}

/// The secret a call presents: a bearer token, or the password of Basic credentials (how ADBC's
/// username/password options reach the handshake).
fn presented_secret(metadata: &MetadataMap) -> Option<String> {
    let value = metadata.get("authorization")?.to_str().ok()?;
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(token.trim().to_string());
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = BASE64.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (_user, password) = decoded.split_once(':')?;
    Some(password.to_string())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The secret the call was let in with, kept for the handshake's answer.
#[derive(Clone)]
pub(crate) struct Secret(pub String);

/// What a call's token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    read: bool,
    write: bool,
}

impl Grant {
    const ALL: Grant = Grant {
        read: true,
        write: true,
    };
    const READ: Grant = Grant {
        read: true,
        write: false,
    };
    const WRITE: Grant = Grant {
        read: false,
        write: true,
    };

    fn union(self, other: Grant) -> Grant {
        Grant {
            read: self.read || other.read,
            write: self.write || other.write,
        }
    }
}

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

/// Refuses a call whose token does not allow what it needs.
pub(crate) fn require<T>(request: &Request<T>, need: Need) -> Result<(), Status> {
    let grant = request
        .extensions()
        .get::<Grant>()
        .copied()
        .ok_or_else(|| Status::unauthenticated("a valid token is required"))?;
    match need {
        Need::Read if !grant.read => Err(Status::permission_denied(
            "this token may only write (DoPut, flush, maintain): queries need the read or the admin token",
        )),
        Need::Write if !grant.write => Err(Status::permission_denied(
            "this token may only read: writes need the write or the admin token",
        )),
        _ => Ok(()),
    }
}

/// A certificate chain and its key, PEM files, for serving Flight over TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    pub fn server_config(&self) -> std::io::Result<ServerTlsConfig> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
            })
        };
        let identity = Identity::from_pem(read(&self.cert)?, read(&self.key)?);
        Ok(ServerTlsConfig::new().identity(identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(authorization: &str) -> Request<()> {
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert("authorization", authorization.parse().expect("ascii"));
        request
    }

    fn tokens() -> Tokens {
        Tokens {
            admin: Some("x7-admin".into()),
            read: Some("x7-read".into()),
            write: Some("x7-write".into()),
        }
    }

    #[test]
    fn each_token_grants_its_own_calls() {
        let granted = |auth: &str| {
            tokens()
                .check(request_with(auth))
                .ok()
                .and_then(|r| r.extensions().get::<Grant>().copied())
        };
        assert_eq!(granted("Bearer x7-admin"), Some(Grant::ALL));
        assert_eq!(granted("Bearer x7-read"), Some(Grant::READ));
        assert_eq!(granted("Bearer x7-write"), Some(Grant::WRITE));
        assert_eq!(granted("Bearer nope"), None);
        assert_eq!(granted("Bearer "), None);
        let basic = format!("Basic {}", BASE64.encode("analyst:x7-read"));
        assert_eq!(granted(&basic), Some(Grant::READ));
    }

    #[test]
    fn no_tokens_leave_every_call_open() {
        let request = Tokens::default()
            .check(Request::new(()))
            .expect("open endpoint");
        assert!(require(&request, Need::Read).is_ok());
        assert!(require(&request, Need::Write).is_ok());
    }

    #[test]
    fn a_read_token_cannot_write_nor_a_write_token_read() {
        let reader = tokens()
            .check(request_with("Bearer x7-read"))
            .expect("known");
        assert!(require(&reader, Need::Read).is_ok());
        assert_eq!(
            require(&reader, Need::Write).map_err(|s| s.code()),
            Err(tonic::Code::PermissionDenied)
        );
        let writer = tokens()
            .check(request_with("Bearer x7-write"))
            .expect("known");
        assert!(require(&writer, Need::Write).is_ok());
        assert!(require(&writer, Need::Read).is_err());
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let shown = format!("{:?}", tokens());
        assert!(!shown.contains("x7-"), "{shown}");
    }
}
