//! A small ZTP server for the client tests: DHCP answers from the fleet's reservations, HTTP from
//! the files `dir::files` writes (config.db read as the seed's nginx reads it), every call logged.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::super::dhcp::{ACK, INFORM, OFFER, REQUEST};
use super::super::{Fleet, HttpReply, HttpRequest, Installer, Pending, ZtpTransport, dir};
use super::reply;

/// One message the server received.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: i64,
    pub from: SocketAddr,
    pub device: String,
    /// Path and status of an HTTP request.
    pub http: Option<(String, u16)>,
    /// The event code of a GELF message.
    pub gelf: Option<String>,
    /// A DHCPREQUEST from a bound client (ciaddr set).
    pub renewal: bool,
}

pub struct FakeServer {
    fleet: Fleet,
    files: BTreeMap<String, Vec<u8>>,
    db: Map<String, Value>,
    pub calls: Mutex<Vec<Call>>,
}

/// config.db without its `#` comments (the seed's files have no `#` inside strings).
fn parse_db(text: &str) -> Map<String, Value> {
    let plain: String = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    match serde_json::from_str(&plain).expect("config.db is JSON once uncommented") {
        Value::Object(map) => map,
        other => panic!("config.db is an object: {other}"),
    }
}

fn options(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut rest = &bytes[240..];
    let mut out = Vec::new();
    while let [code, tail @ ..] = rest {
        if *code == 255 {
            break;
        }
        let len = usize::from(tail[0]);
        out.push((*code, tail[1..1 + len].to_vec()));
        rest = &tail[1 + len..];
    }
    out
}

impl FakeServer {
    pub fn new(fleet: &Fleet) -> FakeServer {
        let files: BTreeMap<String, Vec<u8>> = dir::files(fleet).into_iter().collect();
        let db = parse_db(std::str::from_utf8(&files["config.db"]).expect("utf-8"));
        FakeServer {
            fleet: fleet.clone(),
            files,
            db,
            calls: Mutex::new(Vec::new()),
        }
    }

    pub fn db(&self) -> &Map<String, Value> {
        &self.db
    }

    pub fn file(&self, path: &str) -> Option<&Vec<u8>> {
        self.files.get(path)
    }

    fn log(&self, call: Call) {
        self.calls.lock().expect("calls").push(call);
    }

    fn answer_dhcp(&self, at: i64, from: SocketAddr, bytes: &[u8]) -> Option<Vec<u8>> {
        assert_eq!(bytes[0], 1, "a BOOTREQUEST");
        let xid = u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        let ciaddr = Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]);
        let options = options(bytes);
        let option = |code: u8| {
            options
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, v)| v.as_slice())
        };
        let device = self.fleet.devices.iter().find(|d| bytes[28..34] == d.mac)?;
        let kind = option(53)?[0];
        self.log(Call {
            at,
            from,
            device: device.name.clone(),
            http: None,
            gelf: None,
            renewal: kind == REQUEST && !ciaddr.is_unspecified(),
        });
        let server = self.fleet.server.octets();
        let lease = self.fleet.lease_time_s.to_be_bytes();
        let asked = option(55).unwrap_or(&[]).to_vec();
        let url = format!("{}/ztp/image", self.fleet.base_url());
        let base = self.fleet.base_url();
        let onie = option(60).is_some_and(|v| v.starts_with(b"onie_vendor:"));
        let mut answer: Vec<(u8, &[u8])> = vec![(54, &server[..])];
        let reply_kind = match kind {
            INFORM => {
                answer.push((210, base.as_bytes()));
                return Some(reply(ACK, xid, [0; 4], &answer));
            }
            1 => OFFER,
            REQUEST => ACK,
            _ => return None,
        };
        answer.push((51, &lease[..]));
        answer.push((12, device.name.as_bytes()));
        if asked.contains(&114) && device.installer == Installer::DefaultUrl {
            answer.push((114, url.as_bytes()));
        }
        if onie && asked.contains(&72) {
            answer.push((72, &server[..]));
        }
        Some(reply(reply_kind, xid, device.address.octets(), &answer))
    }

    fn answer_http(&self, request: &HttpRequest) -> HttpReply {
        let serial = request.header("ONIE-SERIAL-NUMBER").unwrap_or("");
        let entry = |key: &str| self.db.get(serial)?.get(key)?.as_str().map(str::to_string);
        let file = |path: String| match self.files.get(&path) {
            Some(body) => HttpReply {
                status: 200,
                location: None,
                body: body.clone(),
            },
            None => HttpReply {
                status: 404,
                ..HttpReply::default()
            },
        };
        let path = request.path.as_str();
        if let Some(kind) = path.strip_prefix("/ztp/config/") {
            return file(format!("configs/{}", entry(kind).unwrap_or_default()));
        }
        if path == "/ztp/image" {
            return match entry("image") {
                Some(url) => HttpReply {
                    status: 301,
                    location: Some(url),
                    body: Vec::new(),
                },
                None => file(String::new()),
            };
        }
        match path.strip_prefix("/images/") {
            Some(name) => file(format!("images/{name}")),
            None => file(path.trim_start_matches('/').to_string()),
        }
    }
}

impl ZtpTransport for FakeServer {
    fn dhcp<'a>(
        &'a self,
        at: i64,
        from: SocketAddr,
        message: Vec<u8>,
    ) -> Pending<'a, Option<Vec<u8>>> {
        Box::pin(std::future::ready(self.answer_dhcp(at, from, &message)))
    }

    fn http<'a>(
        &'a self,
        at: i64,
        from: SocketAddr,
        request: HttpRequest,
    ) -> Pending<'a, HttpReply> {
        let reply = self.answer_http(&request);
        let device = self
            .fleet
            .devices
            .iter()
            .find(|d| d.address == from.ip())
            .map_or_else(String::new, |d| d.name.clone());
        self.log(Call {
            at,
            from,
            device,
            http: Some((request.path.clone(), reply.status)),
            gelf: None,
            renewal: false,
        });
        Box::pin(std::future::ready(reply))
    }

    fn gelf<'a>(&'a self, at: i64, from: SocketAddr, datagram: Vec<u8>) -> Pending<'a, ()> {
        let message: Value = serde_json::from_slice(&datagram).expect("GELF is JSON");
        self.log(Call {
            at,
            from,
            device: message["host"].as_str().unwrap_or("").to_string(),
            http: None,
            gelf: message["_log_event"].as_str().map(str::to_string),
            renewal: false,
        });
        Box::pin(std::future::ready(()))
    }
}
