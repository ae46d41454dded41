//! Tests of the DHCP server through `handle()` and one real socket: requests are built with
//! dhcproto (the other side of the wire), replies read back with a small option walker of
//! their own, leases kept by a `LeaseLog` over a `MemoryStore`.
#![allow(clippy::unwrap_used)]

mod flow;
mod reservations;
mod robustness;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dhcproto::v4::relay::RelayAgentInformation;
use dhcproto::v4::{
    Decodable, Decoder, DhcpOption, Encodable, Encoder, Flags, Message, MessageType, OptionCode,
    UnknownOption,
};
use tokio::sync::mpsc;

use super::{DhcpOptions, DhcpServer};
use crate::ZtpDir;
use crate::config::{
    Class, Condition, DhcpConfig, Host, OptionValue, Options, Subnet, Watched, ZtpConfig,
};
use crate::events::{Event, MemoryStore, Recorder};
use crate::leases::{LeaseLog, LeaseStore};

pub const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const MAC: [u8; 6] = [0x48, 0x65, 0xee, 0x11, 0xda, 0x85];
pub const LEAF_MAC: [u8; 6] = [0x44, 0x38, 0x39, 0x00, 0x00, 0x01];
pub const SERIAL: &str = "591654XK1902037";
/// Seconds since the epoch of the tests' clock, as µs.
pub const T0: i64 = 1_700_000_000_000_000;

pub fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

pub fn text(value: &str) -> OptionValue {
    OptionValue::Text(value.into())
}

/// The seed's dhcpd.conf, as a model: one subnet, LEAF01 reserved by MAC, an ONIE class.
pub fn seed_config() -> DhcpConfig {
    let mut subnet_options = Options::default();
    subnet_options.set(3, OptionValue::IpAddresses(vec![ip("10.0.0.138")]));
    subnet_options.set(6, OptionValue::IpAddresses(vec![ip("10.0.0.210")]));
    subnet_options.set(15, text("local"));
    let mut leaf = Options::default();
    leaf.set(12, text("LEAF01"));
    leaf.set(114, text("http://managementserver/ztp/image"));
    leaf.set(210, text("http://managementserver"));
    let mut onie = Options::default();
    onie.set(114, text("http://managementserver/onie-installer"));
    DhcpConfig {
        authoritative: true,
        default_lease_time: Some(600),
        max_lease_time: Some(7200),
        classes: vec![Class {
            name: "onie".into(),
            condition: Condition::Substring {
                code: 60,
                offset: 0,
                length: 11,
                value: b"onie_vendor".to_vec(),
            },
            options: onie,
        }],
        subnets: vec![Subnet {
            network: ip("10.0.0.0"),
            netmask: ip("255.255.255.0"),
            ranges: vec![(ip("10.0.0.100"), ip("10.0.0.199"))],
            options: subnet_options,
            hosts: vec![Host {
                name: "leaf01".into(),
                hardware_ethernet: Some(LEAF_MAC),
                fixed_address: Some(ip("10.0.0.20")),
                options: leaf,
                ..Host::default()
            }],
            default_lease_time: None,
            max_lease_time: None,
            next_server: Some(ip("10.0.0.5")),
            filename: None,
        }],
        ..DhcpConfig::default()
    }
}

/// A server under test with its store and the rows it records.
pub struct Harness {
    pub server: DhcpServer,
    pub store: Arc<MemoryStore>,
    pub events: mpsc::Receiver<Event>,
    pub watched: Watched,
}

impl Harness {
    pub async fn new(config: DhcpConfig) -> Harness {
        Harness::over(config, Arc::new(MemoryStore::default())).await
    }

    /// A server over an existing store (a restart).
    pub async fn over(config: DhcpConfig, store: Arc<MemoryStore>) -> Harness {
        let log = LeaseLog::new(store.clone(), SERVER.to_string());
        let watched = Watched::fixed(
            ZtpDir::new("/nonexistent"),
            ZtpConfig {
                dhcp: config,
                ..ZtpConfig::default()
            },
        );
        Harness::with_store(watched, Arc::new(log), store).await
    }

    pub async fn with_store(
        watched: Watched,
        leases: Arc<dyn LeaseStore>,
        store: Arc<MemoryStore>,
    ) -> Harness {
        let (recorder, events) = Recorder::discard();
        let options = DhcpOptions {
            server_id: Some(SERVER),
            offer_hold: Duration::from_secs(30),
            ..DhcpOptions::default()
        };
        let server = DhcpServer::start(watched.clone(), leases, recorder, options)
            .await
            .unwrap();
        Harness {
            server,
            store,
            events,
            watched,
        }
    }

    /// Sends `message` from a client (or relay) at `from`; the reply and where it goes.
    pub async fn send(
        &self,
        message: &Message,
        from: &str,
        at: i64,
    ) -> Option<(Reply, SocketAddr)> {
        let bytes = encode(message);
        let (reply, to) = self
            .server
            .handle(&bytes, from.parse().unwrap(), at)
            .await?;
        Some((Reply::parse(&reply), to))
    }

    /// The newest recorded row's column as text.
    pub fn last_event(&mut self) -> Event {
        let mut last = None;
        while let Ok(event) = self.events.try_recv() {
            last = Some(event);
        }
        last.expect("an event was recorded")
    }
}

pub fn column(event: &Event, name: &str) -> String {
    use sonde_schema::row::Value;
    match event.row.get(name) {
        Some(Value::Str(s)) => s.clone(),
        Some(Value::U32(v)) => v.to_string(),
        Some(Value::U64(v)) => v.to_string(),
        Some(Value::Null) | None => String::new(),
        Some(other) => format!("{other:?}"),
    }
}

pub fn encode(message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    message.encode(&mut Encoder::new(&mut out)).unwrap();
    out
}

/// A client's message of `kind` from `mac`.
pub fn client(kind: MessageType, mac: [u8; 6], xid: u32) -> Message {
    let mut message = Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &mac,
    );
    message.set_flags(Flags::default().set_broadcast());
    message.opts_mut().insert(DhcpOption::MessageType(kind));
    message
}

pub fn raw(message: &mut Message, code: u8, bytes: &[u8]) {
    if code == 82 {
        // dhcproto keys an unknown 82 apart from its relay variant and would write it twice.
        let info = RelayAgentInformation::decode(&mut Decoder::new(bytes)).unwrap();
        message
            .opts_mut()
            .insert(DhcpOption::RelayAgentInformation(info));
        return;
    }
    message
        .opts_mut()
        .insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::from(code),
            bytes.to_vec(),
        )));
}

pub fn asks(message: &mut Message, codes: &[u8]) {
    message.opts_mut().insert(DhcpOption::ParameterRequestList(
        codes.iter().map(|c| OptionCode::from(*c)).collect(),
    ));
}

/// Option 61 as ONIE and CTRLD send it: type 0 then the serial.
pub fn serial_id(serial: &str) -> Vec<u8> {
    let mut id = vec![0];
    id.extend_from_slice(serial.as_bytes());
    id
}

/// A reply as the client reads it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub bytes: Vec<u8>,
    pub op: u8,
    pub xid: u32,
    pub yiaddr: Ipv4Addr,
    pub ciaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 6],
    /// Options in wire order (code, value), instances kept apart.
    pub options: Vec<(u8, Vec<u8>)>,
}

impl Reply {
    /// RFC 2131's fixed layout then the options after the cookie.
    pub fn parse(bytes: &[u8]) -> Reply {
        let addr =
            |at: usize| Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
        assert_eq!(&bytes[236..240], &[99, 130, 83, 99]);
        let mut options = Vec::new();
        let mut i = 240;
        while i < bytes.len() && bytes[i] != 255 {
            if bytes[i] == 0 {
                i += 1;
                continue;
            }
            let len = usize::from(bytes[i + 1]);
            options.push((bytes[i], bytes[i + 2..i + 2 + len].to_vec()));
            i += 2 + len;
        }
        Reply {
            bytes: bytes.to_vec(),
            op: bytes[0],
            xid: u32::from_be_bytes(bytes[4..8].try_into().unwrap()),
            ciaddr: addr(12),
            yiaddr: addr(16),
            siaddr: addr(20),
            giaddr: addr(24),
            chaddr: bytes[28..34].try_into().unwrap(),
            options,
        }
    }

    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    pub fn kind(&self) -> u8 {
        self.option(53).unwrap()[0]
    }

    pub fn codes(&self) -> Vec<u8> {
        self.options.iter().map(|(c, _)| *c).collect()
    }

    pub fn u32(&self, code: u8) -> u32 {
        u32::from_be_bytes(self.option(code).unwrap().try_into().unwrap())
    }
}

pub const OFFER: u8 = 2;
pub const ACK: u8 = 5;
pub const NAK: u8 = 6;

/// DISCOVER then REQUEST (selecting) for `mac`; the ACK.
pub async fn lease(h: &Harness, mac: [u8; 6], at: i64) -> Reply {
    let (offer, _) = h
        .send(&client(MessageType::Discover, mac, 1), "0.0.0.0:68", at)
        .await
        .unwrap();
    assert_eq!(offer.kind(), OFFER);
    let mut request = client(MessageType::Request, mac, 2);
    raw(&mut request, 54, &SERVER.octets());
    raw(&mut request, 50, &offer.yiaddr.octets());
    let (ack, _) = h.send(&request, "0.0.0.0:68", at).await.unwrap();
    assert_eq!(ack.kind(), ACK);
    ack
}
