//! The routing core: the seed's nginx locations, ONIE's installer names, Cumulus' script and
//! `/images/`, answered from the configuration in force.
//!
//! - `/ztp/config/{startup,ctrld,ctrldrbac,element}` (exact: `ctrld` is not a prefix of
//!   `ctrldrbac`): the serial's file under `configs/`; 404 for no serial, an unknown serial,
//!   no such entry or a missing file. POST is answered as GET, as the seed's
//!   `error_page 405 =200 $uri` does; elsewhere only GET and HEAD are allowed.
//! - `/ztp/image`: the serial's `image`, a 301 to an `http(s)://` URL, or the file itself when
//!   the URL is this server's `/images/…` (its authority is the request's Host) or the entry is
//!   a bare name under `images/`.
//! - `/ztp/script`: the serial's `ztp_script` under `configs/`, else `configs/ztp-default.sh`;
//!   served only with a `# CUMULUS-AUTOPROVISIONING` line (else 500).
//! - `/images/<name>`: a file under `images/`, else the image store's object of that name (when
//!   the server has one, see [`super::objects`]); no listing. Wherever an image is looked up
//!   by name (`/ztp/image`, ONIE's names) the store comes after `images/`.
//! - `/onie-installer…` and `/onie-updater…` (each with `.bin`): ONIE's default names. An
//!   installer name gets the serial's image when it is a local file (an updater name never
//!   does: it asks for ONIE itself); else `images/<name>`, else the directory's top-level
//!   `<name>`; else 404 and ONIE tries its next name.
//! - Everything else, `/` included: 404.
//!
//! Refusals: a decoded path with a `.` or `..` segment, a backslash or a NUL is 400; a name that
//! resolves outside its root (a symlink out) is 403; a config.db entry naming a file outside
//! `configs/` or `images/` is 404 with the error code (the operator's mistake, logged).

use std::net::SocketAddr;
use std::path::Path;

use sha1::{Digest, Sha1};

use super::Shared;
use super::event::{Outcome, SERIAL_HEADERS, client_v4};
use super::files::{self, Found, Refusal};
use super::request::Request;
use super::response::Response;
use crate::codes;
use crate::config::{ConfigKind, Device};
use crate::leases::{hex, mac_text, parse_mac};

/// The marker a Cumulus ZTP script must hold.
pub const CUMULUS_MARKER: &str = "CUMULUS-AUTOPROVISIONING";
/// The script served to a device config.db gives none.
pub const DEFAULT_SCRIPT: &str = "ztp-default.sh";

/// A route's answer.
type Answer = (Response, Outcome);

/// The URL's meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Config(ConfigKind),
    Image,
    Script,
    Images(String),
    Onie { name: String, installer: bool },
    None,
}

fn route_of(path: &str) -> Route {
    if let Some(kind) = path
        .strip_prefix("/ztp/config/")
        .and_then(ConfigKind::parse)
    {
        return Route::Config(kind);
    }
    match path {
        "/ztp/image" => return Route::Image,
        "/ztp/script" => return Route::Script,
        _ => {}
    }
    if let Some(name) = path.strip_prefix("/images/") {
        return Route::Images(name.to_string());
    }
    let name = path.trim_start_matches('/');
    if path.starts_with('/') && !name.contains('/') {
        let base = name.strip_suffix(".bin").unwrap_or(name);
        let is = |prefix: &str| base == prefix || base.starts_with(&format!("{prefix}-"));
        if is("onie-installer") || is("onie-updater") {
            return Route::Onie {
                name: name.to_string(),
                installer: is("onie-installer"),
            };
        }
    }
    Route::None
}

impl Route {
    fn name(&self) -> &'static str {
        match self {
            Route::Config(_) => "config",
            Route::Image => "image",
            Route::Script => "script",
            Route::Images(_) => "images",
            Route::Onie { .. } => "onie",
            Route::None => "none",
        }
    }
}

/// Whether a decoded path has a segment or byte that could step out of a root.
fn path_refused(path: &str) -> bool {
    path.contains(['\\', '\0']) || path.split('/').any(|s| s == "." || s == "..")
}

/// The request's serial and its config.db entry.
struct Who<'a> {
    serial: Option<&'a str>,
    device: Option<&'a Device>,
}

impl Shared {
    /// The answer to `request` from `client` and what to record about it.
    pub fn route(&self, request: &Request, client: SocketAddr) -> Answer {
        let config = self.config.get();
        let serial = request.first_of(&SERIAL_HEADERS);
        let who = Who {
            serial,
            device: serial.and_then(|s| config.db.devices.get(s)),
        };
        let (mut response, mut outcome) = self.route_known(request, client, &who);
        outcome.known_serial = who.device.is_some();
        if request.method == "HEAD" {
            response = response.without_body();
        }
        (response, outcome)
    }

    fn route_known(&self, request: &Request, client: SocketAddr, who: &Who<'_>) -> Answer {
        let Some(path) = request.decoded_path() else {
            let outcome = Outcome::new("none", codes::HTTP_BAD_REQUEST, "undecodable path");
            return (Response::status(400), outcome);
        };
        if path_refused(&path) {
            let outcome = Outcome::new("none", codes::HTTP_REFUSED_PATH, "dot segment in path");
            return (Response::status(400), outcome);
        }
        let route = route_of(&path);
        let allowed = matches!(
            (&route, request.method.as_str()),
            (_, "GET" | "HEAD") | (Route::Config(_), "POST")
        );
        if !allowed {
            let message = format!("method {} not allowed", request.method);
            let outcome = Outcome::new(route.name(), codes::HTTP_BAD_REQUEST, message);
            let allow = match route {
                Route::Config(_) => "GET, HEAD, POST",
                _ => "GET, HEAD",
            };
            return (Response::status(405).with("Allow", allow), outcome);
        }
        match route {
            Route::Config(kind) => self.config_file(request, client, who, kind),
            Route::Image => self.image(request, client, who),
            Route::Script => self.script(request, client, who),
            Route::Images(name) => self.images(request, &name),
            Route::Onie { name, installer } => self.onie(request, client, who, &name, installer),
            Route::None => {
                let outcome = Outcome::new("none", codes::HTTP_NOT_FOUND, "no such URL");
                (Response::status(404), outcome)
            }
        }
    }

    /// `/ztp/config/<kind>`.
    fn config_file(
        &self,
        request: &Request,
        client: SocketAddr,
        who: &Who<'_>,
        kind: ConfigKind,
    ) -> Answer {
        let (set, missing, failed) = kind.codes();
        let coded = |code, message: String| {
            let mut outcome = Outcome::coded("config", code, message);
            outcome.config_name = Some(kind.name());
            outcome
        };
        let device = match self.device_of(who, client, "config") {
            Ok(device) => device,
            Err(refused) => {
                let (response, mut outcome) = *refused;
                if response.status == 404 {
                    outcome = coded(missing, outcome.message);
                }
                outcome.config_name = Some(kind.name());
                return (response, outcome);
            }
        };
        let Some(name) = kind.file(device) else {
            let message = format!("no {} file for the serial", kind.name());
            return (Response::status(404), coded(missing, message));
        };
        let file = format!("configs/{name}");
        let found = match files::resolve(&config_dir(self), name) {
            Ok(found) => found,
            Err(refusal) => {
                let (status, code, message) = match refusal {
                    Refusal::Missing => (404, missing, format!("{file} is missing")),
                    Refusal::Unreadable(e) => (500, failed, format!("{file}: {e}")),
                    Refusal::BadName | Refusal::Outside => (
                        404,
                        failed,
                        format!("config.db names {name:?} outside configs/"),
                    ),
                };
                return (Response::status(status), coded(code, message).file(file));
            }
        };
        let sha1 = match self.sha1_of(&found) {
            Ok(sha1) => sha1,
            Err(e) => {
                let outcome = coded(failed, format!("{file}: {e}")).file(file);
                return (Response::status(500), outcome);
            }
        };
        let response = files::answer(request, &found.entity(), files::content_type(name));
        let mut outcome = coded(set, format!("{} configuration served", kind.name())).file(file);
        outcome.config_sha1 = Some(sha1);
        (response, outcome)
    }

    /// `/ztp/image`.
    fn image(&self, request: &Request, client: SocketAddr, who: &Who<'_>) -> Answer {
        let device = match self.device_of(who, client, "image") {
            Ok(device) => device,
            Err(refused) if refused.0.status == 404 => {
                let (response, outcome) = *refused;
                let outcome = Outcome::new("image", codes::HTTP_IMAGE_MISSING, outcome.message);
                return (response, outcome);
            }
            Err(refused) => return *refused,
        };
        let Some(image) = device.image.as_deref() else {
            let outcome = Outcome::new(
                "image",
                codes::HTTP_IMAGE_MISSING,
                "no image for the serial",
            );
            return (Response::status(404), outcome);
        };
        match local_image(image, request.get("host")) {
            None => {
                let message = format!("redirected to {image}");
                let outcome = Outcome::new("image", codes::HTTP_IMAGE_REDIRECTED, message);
                (Response::redirect(image), outcome)
            }
            Some(name) => self.image_file(request, "image", &name),
        }
    }

    /// A file under `images/` as the answer to an image request.
    fn image_file(&self, request: &Request, route: &'static str, name: &str) -> Answer {
        let file = format!("images/{name}");
        match files::resolve(&self.config.dir().images(), name) {
            Ok(found) => {
                let response = files::answer(request, &found.entity(), files::content_type(name));
                let message = format!("{file} served");
                (
                    response,
                    Outcome::new(route, codes::HTTP_IMAGE_SERVED, message).file(file),
                )
            }
            Err(Refusal::Missing) => match self.stored_image(name) {
                Some((entity, file)) => {
                    let response = files::answer(request, &entity, files::content_type(name));
                    let message = format!("{file} served");
                    (
                        response,
                        Outcome::new(route, codes::HTTP_IMAGE_SERVED, message).file(file),
                    )
                }
                None => {
                    let message = format!("{file} is missing");
                    let outcome =
                        Outcome::new(route, codes::HTTP_IMAGE_MISSING, message).file(file);
                    (Response::status(404), outcome)
                }
            },
            Err(Refusal::Unreadable(e)) => {
                let outcome = Outcome::new(route, codes::HTTP_SERVER_ERROR, format!("{file}: {e}"))
                    .file(file);
                (Response::status(500), outcome)
            }
            Err(Refusal::BadName | Refusal::Outside) => {
                let message = format!("config.db image {name:?} is outside images/");
                let outcome = Outcome::new(route, codes::HTTP_REFUSED_PATH, message);
                (Response::status(404), outcome)
            }
        }
    }

    /// `/ztp/script`.
    fn script(&self, request: &Request, client: SocketAddr, who: &Who<'_>) -> Answer {
        let own = who.device.and_then(|d| d.script.as_deref());
        let name = match own {
            Some(name) => {
                if let Err(refused) = self.device_of(who, client, "script") {
                    return *refused;
                }
                name
            }
            None => DEFAULT_SCRIPT,
        };
        let file = format!("configs/{name}");
        let missing = |message: String| {
            let outcome = Outcome::new("script", codes::HTTP_SCRIPT_MISSING, message);
            (Response::status(404), outcome.file(file.clone()))
        };
        let found = match files::resolve(&config_dir(self), name) {
            Ok(found) => found,
            Err(Refusal::Missing) if own.is_none() => {
                return missing("no script for the device and no default script".into());
            }
            Err(Refusal::Missing) => return missing(format!("{file} is missing")),
            Err(Refusal::BadName | Refusal::Outside) => {
                let message = format!("config.db script {name:?} is outside configs/");
                return (
                    Response::status(404),
                    Outcome::new("script", codes::HTTP_REFUSED_PATH, message),
                );
            }
            Err(Refusal::Unreadable(e)) => {
                let outcome =
                    Outcome::new("script", codes::HTTP_SERVER_ERROR, format!("{file}: {e}"));
                return (Response::status(500), outcome.file(file));
            }
        };
        match has_marker(&found.path) {
            Ok(true) => {
                let response = files::answer(request, &found.entity(), "text/plain; charset=utf-8");
                let outcome = Outcome::new(
                    "script",
                    codes::HTTP_SCRIPT_SERVED,
                    format!("{file} served"),
                );
                (response, outcome.file(file))
            }
            Ok(false) => {
                let message = format!("{file} has no `# {CUMULUS_MARKER}` line");
                let outcome = Outcome::new("script", codes::HTTP_SCRIPT_INVALID, message);
                (Response::status(500), outcome.file(file))
            }
            Err(e) => {
                let outcome =
                    Outcome::new("script", codes::HTTP_SERVER_ERROR, format!("{file}: {e}"));
                (Response::status(500), outcome.file(file))
            }
        }
    }

    /// `/images/<name>`.
    fn images(&self, request: &Request, name: &str) -> Answer {
        let file = format!("images/{name}");
        if name.is_empty() {
            let outcome = Outcome::new("images", codes::HTTP_NOT_FOUND, "no listing");
            return (Response::status(404), outcome);
        }
        match files::resolve(&self.config.dir().images(), name) {
            Ok(found) => {
                let response = files::answer(request, &found.entity(), files::content_type(name));
                let outcome =
                    Outcome::new("images", codes::HTTP_FILE_SERVED, format!("{file} served"));
                (response, outcome.file(file))
            }
            Err(Refusal::Missing) if let Some((entity, file)) = self.stored_image(name) => {
                let response = files::answer(request, &entity, files::content_type(name));
                let outcome =
                    Outcome::new("images", codes::HTTP_FILE_SERVED, format!("{file} served"));
                (response, outcome.file(file))
            }
            Err(refusal) => refused("images", refusal, file),
        }
    }

    /// ONIE's default installer names at the root.
    fn onie(
        &self,
        request: &Request,
        client: SocketAddr,
        who: &Who<'_>,
        name: &str,
        installer: bool,
    ) -> Answer {
        if installer && let Some(device) = who.device {
            let device = match self.device_of(who, client, "onie") {
                Ok(_) => device,
                Err(refused) => return *refused,
            };
            let own = device
                .image
                .as_deref()
                .and_then(|image| local_image(image, request.get("host")));
            if let Some(own) = own {
                let (response, mut outcome) = self.image_file(request, "onie", &own);
                if response.status != 404 {
                    outcome.message = format!("{name}: the serial's image {}", outcome.message);
                    return (response, outcome);
                }
            }
        }
        let dir = self.config.dir();
        let served = |entity: &files::Entity, file: String| {
            let response = files::answer(request, entity, "application/octet-stream");
            let message = format!("{name}: {file} served");
            let outcome = Outcome::new("onie", codes::HTTP_IMAGE_SERVED, message);
            (response, outcome.file(file))
        };
        match files::resolve(&dir.images(), name) {
            Ok(found) => return served(&found.entity(), format!("images/{name}")),
            Err(Refusal::Missing) => {}
            Err(refusal) => return refused("onie", refusal, format!("images/{name}")),
        }
        if let Some((entity, file)) = self.stored_image(name) {
            return served(&entity, file);
        }
        match files::resolve(dir.top_level(), name) {
            Ok(found) => return served(&found.entity(), name.to_string()),
            Err(Refusal::Missing) => {}
            Err(refusal) => return refused("onie", refusal, name.to_string()),
        }
        let outcome = Outcome::new(
            "onie",
            codes::HTTP_IMAGE_MISSING,
            format!("no installer {name}"),
        );
        (Response::status(404), outcome)
    }

    /// The request's config.db entry, checked against the serial's MAC binding. The error is
    /// the answer: 404 for no serial or an unknown one, 403 for another device.
    fn device_of<'a>(
        &self,
        who: &Who<'a>,
        client: SocketAddr,
        route: &'static str,
    ) -> Result<&'a Device, Box<Answer>> {
        let not_found = |message: &str| {
            let outcome = Outcome::new(route, codes::HTTP_NOT_FOUND, message);
            Box::new((Response::status(404), outcome))
        };
        let Some(serial) = who.serial else {
            return Err(not_found("no serial number header"));
        };
        let Some(device) = who.device else {
            return Err(not_found(&format!("serial {serial} is not in config.db")));
        };
        let Some(bound) = device.mac.as_deref() else {
            return Ok(device);
        };
        let leased = client_v4(client).and_then(|ip| self.leases.mac_of(ip));
        match (parse_mac(bound), leased) {
            (Some(bound), Some(leased)) if bound == leased => Ok(device),
            (bound_mac, leased) => {
                let message = match (bound_mac, leased) {
                    (None, _) => {
                        format!("config.db mac {bound:?} of serial {serial} does not parse")
                    }
                    (_, None) => format!(
                        "serial {serial} is bound to {bound}; {} holds no lease",
                        client.ip()
                    ),
                    (_, Some(mac)) => format!(
                        "serial {serial} is bound to {bound}; the client's lease is {}",
                        mac_text(&mac)
                    ),
                };
                let outcome = Outcome::new(route, codes::HTTP_WRONG_DEVICE, message);
                Err(Box::new((Response::status(403), outcome)))
            }
        }
    }

    /// `name` from the image store, when one is configured and holds it, with the name its
    /// access row gives it.
    fn stored_image(&self, name: &str) -> Option<(files::Entity, String)> {
        let objects = self.objects.as_ref()?;
        let image = objects.get(name)?;
        Some((image.entity(), format!("{}/{name}", objects.label())))
    }

    /// The file's SHA-1, from the cache while its length and mtime stay.
    fn sha1_of(&self, found: &Found) -> std::io::Result<String> {
        if let Some((len, modified, sha1)) = self.sha1.lock().get(&found.path)
            && *len == found.len
            && *modified == found.modified
        {
            return Ok(sha1.clone());
        }
        let bytes = std::fs::read(&found.path)?;
        let sha1 = hex(&Sha1::digest(&bytes));
        let mut cache = self.sha1.lock();
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(
            found.path.clone(),
            (found.len, found.modified, sha1.clone()),
        );
        Ok(sha1)
    }
}

fn config_dir(shared: &Shared) -> std::path::PathBuf {
    shared.config.dir().configs()
}

/// The answer to a name that resolved to no file.
fn refused(route: &'static str, refusal: Refusal, file: String) -> Answer {
    let (status, code, message) = match refusal {
        Refusal::Missing => (404, codes::HTTP_NOT_FOUND, format!("{file} is missing")),
        Refusal::BadName => (
            400,
            codes::HTTP_REFUSED_PATH,
            format!("{file}: name refused"),
        ),
        Refusal::Outside => (
            403,
            codes::HTTP_REFUSED_PATH,
            format!("{file} leads outside"),
        ),
        Refusal::Unreadable(e) => (500, codes::HTTP_SERVER_ERROR, format!("{file}: {e}")),
    };
    (
        Response::status(status),
        Outcome::new(route, code, message).file(file),
    )
}

/// The name under `images/` an image entry means, or `None` when it is to be redirected to.
fn local_image(image: &str, host: Option<&str>) -> Option<String> {
    let lower = image.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &image[7..]
    } else if lower.starts_with("https://") {
        &image[8..]
    } else if image.contains("://") {
        return None;
    } else {
        let name = image.strip_prefix('/').unwrap_or(image);
        return Some(name.strip_prefix("images/").unwrap_or(image).to_string());
    };
    let (authority, path) = rest.split_at(rest.find('/')?);
    let ours = host.is_some_and(|h| h.eq_ignore_ascii_case(authority));
    let name = path.strip_prefix("/images/")?;
    let name = name.split(['?', '#']).next().unwrap_or_default();
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .ok()?;
    ours.then(|| name.into_owned())
}

/// Whether a script holds the `# CUMULUS-AUTOPROVISIONING` line (leading and trailing
/// blanks, and blanks after the `#`, allowed).
fn has_marker(path: &Path) -> std::io::Result<bool> {
    let text = std::fs::read(path)?;
    Ok(text.split(|b| *b == b'\n').any(|line| {
        let line = String::from_utf8_lossy(line);
        line.trim()
            .strip_prefix('#')
            .is_some_and(|rest| rest.trim() == CUMULUS_MARKER)
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_exactly() {
        assert_eq!(
            route_of("/ztp/config/ctrld"),
            Route::Config(ConfigKind::Ctrld)
        );
        assert_eq!(
            route_of("/ztp/config/ctrldrbac"),
            Route::Config(ConfigKind::CtrldRbac)
        );
        assert_eq!(route_of("/ztp/config/ctrld/"), Route::None);
        assert_eq!(route_of("/ztp/config/ctrldx"), Route::None);
        assert_eq!(route_of("/ztp/image/"), Route::None);
        assert_eq!(route_of("/"), Route::None);
        assert_eq!(route_of("/images/a.bin"), Route::Images("a.bin".into()));
        let onie = |name: &str, installer| Route::Onie {
            name: name.into(),
            installer,
        };
        assert_eq!(route_of("/onie-installer"), onie("onie-installer", true));
        assert_eq!(
            route_of("/onie-installer.bin"),
            onie("onie-installer.bin", true)
        );
        assert_eq!(
            route_of("/onie-installer-x86_64-accton_as7712_32x-r0.bin"),
            onie("onie-installer-x86_64-accton_as7712_32x-r0.bin", true)
        );
        assert_eq!(
            route_of("/onie-updater-x86_64"),
            onie("onie-updater-x86_64", false)
        );
        assert_eq!(route_of("/onie-installerx"), Route::None);
        assert_eq!(route_of("/sub/onie-installer"), Route::None);
    }

    #[test]
    fn image_entries_are_local_or_redirected() {
        let host = Some("10.0.0.1:8080");
        assert_eq!(local_image("x.bin", host).as_deref(), Some("x.bin"));
        assert_eq!(local_image("images/x.bin", host).as_deref(), Some("x.bin"));
        assert_eq!(local_image("/images/x.bin", host).as_deref(), Some("x.bin"));
        assert_eq!(
            local_image("http://10.0.0.1:8080/images/a%2Bb.bin", host).as_deref(),
            Some("a+b.bin")
        );
        assert_eq!(local_image("http://pkg.example/images/x.bin", host), None);
        assert_eq!(local_image("https://10.0.0.1:8080/other/x.bin", host), None);
        assert_eq!(local_image("http://10.0.0.1:8080/images/x.bin", None), None);
        assert_eq!(local_image("tftp://10.0.0.1/x.bin", host), None);
    }

    #[test]
    fn the_marker_must_be_a_comment_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| {
            let path = dir.path().join("s.sh");
            std::fs::write(&path, text).unwrap();
            has_marker(&path).unwrap()
        };
        assert!(write("#!/bin/bash\n# CUMULUS-AUTOPROVISIONING\nexit 0\n"));
        assert!(write("#!/bin/bash\r\n#CUMULUS-AUTOPROVISIONING\r\n"));
        assert!(!write("#!/bin/bash\necho CUMULUS-AUTOPROVISIONING\n"));
        assert!(!write("#!/bin/bash\nexit 0\n"));
    }

    #[test]
    fn dot_segments_are_refused_before_routing() {
        assert!(path_refused("/images/../x"));
        assert!(path_refused("/images/./x"));
        assert!(path_refused("/images/a\\b"));
        assert!(!path_refused("/images/a..b"));
    }
}
