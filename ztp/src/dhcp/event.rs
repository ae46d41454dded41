//! What one exchange was, as a row of `ztp_dhcp`: the request's identity (MAC, client id,
//! serial, ONIE's option 60/77/125 strings, relay and option 82), what was decided (subnet,
//! host, classes, address, lease time, the ZTP URLs handed out, pool use) and the event code.
//! The row's hostname is the device as the server knows it: the reservation's host-name option,
//! else the host NAME, else the serial, else the MAC.

use std::net::Ipv4Addr;

use sonde_schema::families::ztp::DHCP;
use sonde_schema::row::Row;

use crate::codes::Code;
use crate::leases::{hex, mac_text};

use super::message::{Request, code, text};
use super::options::{OnieInfo, RelayInfo, id_text};

/// What the handler decided, for the event row and the reply.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: Code,
    pub message: String,
    /// OFFER, ACK or NAK; None when nothing is sent.
    pub reply: Option<&'static str>,
    pub bytes: Option<Vec<u8>>,
    pub client_ip: Option<Ipv4Addr>,
    pub subnet: Option<String>,
    pub host: Option<String>,
    /// The reservation's host-name option.
    pub host_name: Option<String>,
    pub classes: Vec<String>,
    pub lease_time: Option<u32>,
    /// Options handed out: (code, payload).
    pub handed: Vec<(u8, Vec<u8>)>,
    pub pool: Option<(u32, u32)>,
}

impl Outcome {
    /// An outcome with nothing sent.
    pub fn silent(code: Code, message: impl Into<String>) -> Outcome {
        Outcome {
            code,
            message: message.into(),
            reply: None,
            bytes: None,
            client_ip: None,
            subnet: None,
            host: None,
            host_name: None,
            classes: Vec::new(),
            lease_time: None,
            handed: Vec::new(),
            pool: None,
        }
    }

    fn handed_text(&self, option: u8) -> Option<String> {
        self.handed
            .iter()
            .find(|(c, _)| *c == option)
            .map(|(_, v)| text(v))
    }

    /// The device's name for the row's hostname.
    pub fn hostname(&self, request: &Request) -> String {
        self.host_name
            .clone()
            .or_else(|| self.host.clone())
            .or_else(|| request.serial())
            .unwrap_or_else(|| mac_text(&request.mac))
    }

    /// The row of `ztp_dhcp` at `now` (µs), `duration_us` after receipt.
    pub fn row(&self, request: &Request, now: i64, duration_us: u64) -> Row {
        let mut row = Row::new(&DHCP, now)
            .set("client_mac", mac_text(&request.mac))
            .set("xid", request.xid)
            .set("message_type", request.kind.name())
            .set("reply", self.reply.unwrap_or(""))
            .set("duration_us", duration_us)
            .set("level", self.code.level)
            .set("log_event", self.code.code)
            .set("message", self.message.clone());
        let mut put = |column: &str, value: Option<String>| {
            if let Some(value) = value {
                row.put(column, value);
            }
        };
        put("client_id", request.client_id().map(hex));
        put("serial", request.serial());
        put("vendor_class", request.vendor_class());
        put("user_class", request.user_class());
        let requested = request
            .requested_ip()
            .or((!request.ciaddr.is_unspecified()).then_some(request.ciaddr));
        put("requested_ip", requested.map(|ip| ip.to_string()));
        put("client_ip", self.client_ip.map(|ip| ip.to_string()));
        put(
            "relay_ip",
            request.relayed().then(|| request.giaddr.to_string()),
        );
        let relay = request
            .option(code::RELAY_AGENT)
            .and_then(RelayInfo::decode);
        put(
            "circuit_id",
            relay
                .as_ref()
                .and_then(|r| r.circuit_id.as_deref())
                .map(id_text),
        );
        put(
            "remote_id",
            relay
                .as_ref()
                .and_then(|r| r.remote_id.as_deref())
                .map(id_text),
        );
        put("subnet", self.subnet.clone());
        put("host", self.host.clone());
        put(
            "class",
            (!self.classes.is_empty()).then(|| self.classes.join(",")),
        );
        put("default_url", self.handed_text(114));
        put("path_prefix", self.handed_text(210));
        put("script_url", self.handed_text(239));
        let onie = OnieInfo::from_request(request).unwrap_or_default();
        put("onie_machine", onie.machine);
        put("onie_arch", onie.arch);
        put("onie_revision", onie.revision);
        let asked = request.parameters();
        put(
            "requested_options",
            (!asked.is_empty()).then(|| {
                asked
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        );
        if let Some(seconds) = self.lease_time {
            row.put("lease_time", seconds);
        }
        if let Some((size, used)) = self.pool {
            row.put("pool_size", size);
            row.put("pool_used", used);
        }
        row
    }
}
