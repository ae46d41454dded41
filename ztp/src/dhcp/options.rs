//! The options of a reply and the two options decoded by hand: 125 (vendor-identifying
//! vendor-specific information, RFC 3925 §4) and 82 (relay agent information, RFC 3046 §2.0).
//!
//! A reply is the fixed fields encoded by `dhcproto` followed by options written here in the
//! order the server chooses (dhcproto's own option map is sorted by code): 53, 54, the lease
//! times, then the rest in the client's parameter request list order, then 82 last as RFC 3046
//! asks, then End. Each option goes through `DhcpOption::encode`, so a value over 255 bytes is
//! split into several instances (RFC 3396). An optional option that does not fit the client's
//! size limit is left out and logged; the reply is padded to the BOOTP minimum of 300 bytes.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, Encodable, Encoder, Message, MessageType, Opcode, UnknownOption};
use tracing::warn;

use super::message::{Request, flags};

/// ONIE's IANA enterprise number.
pub const ONIE_ENTERPRISE: u32 = 42623;
/// ONIE's sub-options of option 125.
pub const ONIE_INSTALLER_URL: u8 = 1;
pub const ONIE_UPDATER_URL: u8 = 2;
pub const ONIE_MACHINE: u8 = 3;
pub const ONIE_ARCH: u8 = 4;
pub const ONIE_REVISION: u8 = 5;

/// BOOTP's minimum message (RFC 1542 §2.1).
const MIN_MESSAGE: usize = 300;
/// IP and UDP headers, which option 57's size counts (RFC 2132 §9.10).
const IP_UDP: usize = 28;
/// The datagram every client accepts (RFC 2131 §2).
const MIN_DATAGRAM: usize = 576;
/// The largest datagram sent, whatever option 57 says: one Ethernet frame.
const MAX_DATAGRAM: usize = 1500;

/// One enterprise's data in option 125: its sub-options in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendor {
    pub enterprise: u32,
    pub suboptions: Vec<(u8, Vec<u8>)>,
}

/// Option 125's payload: for each enterprise, its number (4 bytes), data-len (1), and the
/// sub-options (code, len, data). None when a part would exceed 255 bytes.
pub fn encode_vendor_identifying(vendors: &[Vendor]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for vendor in vendors {
        let mut data = Vec::new();
        for (code, value) in &vendor.suboptions {
            data.push(*code);
            data.push(u8::try_from(value.len()).ok()?);
            data.extend_from_slice(value);
        }
        out.extend_from_slice(&vendor.enterprise.to_be_bytes());
        out.push(u8::try_from(data.len()).ok()?);
        out.extend_from_slice(&data);
    }
    Some(out)
}

/// Decodes option 125's payload; None when a length runs past its bound.
pub fn decode_vendor_identifying(mut bytes: &[u8]) -> Option<Vec<Vendor>> {
    let mut vendors = Vec::new();
    while !bytes.is_empty() {
        let enterprise = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?);
        let len = usize::from(*bytes.get(4)?);
        let data = bytes.get(5..5 + len)?;
        vendors.push(Vendor {
            enterprise,
            suboptions: suboptions(data)?,
        });
        bytes = &bytes[5 + len..];
    }
    Some(vendors)
}

/// code, len, data repeated (the layout of 125's option-data and of 82's sub-options).
fn suboptions(mut data: &[u8]) -> Option<Vec<(u8, Vec<u8>)>> {
    let mut out = Vec::new();
    while let Some((&code, rest)) = data.split_first() {
        let (&len, rest) = rest.split_first()?;
        let value = rest.get(..usize::from(len))?;
        out.push((code, value.to_vec()));
        data = &rest[usize::from(len)..];
    }
    Some(out)
}

/// What an ONIE client says about itself in option 125 (enterprise 42623).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnieInfo {
    pub machine: Option<String>,
    pub arch: Option<String>,
    pub revision: Option<String>,
}

impl OnieInfo {
    /// ONIE's sub-options in a client's option 125, if it carries enterprise 42623.
    pub fn from_request(request: &Request) -> Option<OnieInfo> {
        let bytes = request.option(super::message::code::VENDOR_IDENTIFYING)?;
        let vendors = decode_vendor_identifying(bytes)?;
        let onie = vendors.iter().find(|v| v.enterprise == ONIE_ENTERPRISE)?;
        let get = |code: u8| {
            onie.suboptions
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, v)| super::message::text(v))
        };
        Some(OnieInfo {
            machine: get(ONIE_MACHINE),
            arch: get(ONIE_ARCH),
            revision: get(ONIE_REVISION),
        })
    }
}

/// Option 82's sub-options 1 (circuit id) and 2 (remote id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayInfo {
    pub circuit_id: Option<Vec<u8>>,
    pub remote_id: Option<Vec<u8>>,
}

impl RelayInfo {
    /// Decodes option 82's payload; None when a sub-option's length runs past the end.
    pub fn decode(bytes: &[u8]) -> Option<RelayInfo> {
        let subs = suboptions(bytes)?;
        let get = |code: u8| {
            subs.iter()
                .find(|(c, _)| *c == code)
                .map(|(_, v)| v.clone())
        };
        Some(RelayInfo {
            circuit_id: get(1),
            remote_id: get(2),
        })
    }

    /// The payload with sub-options 1 then 2 (a relay's own layout is echoed as received).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (code, value) in [(1u8, &self.circuit_id), (2, &self.remote_id)] {
            if let Some(value) = value {
                out.push(code);
                out.push(u8::try_from(value.len()).unwrap_or(u8::MAX));
                out.extend_from_slice(&value[..value.len().min(255)]);
            }
        }
        out
    }
}

/// An identifier for an event column: text when printable, else hex with colons.
pub fn id_text(bytes: &[u8]) -> String {
    if !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// The fixed fields of a reply.
#[derive(Debug, Clone)]
pub struct Header {
    pub kind: MessageType,
    pub yiaddr: Ipv4Addr,
    pub ciaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub file: Option<String>,
}

/// Encodes a reply to `request`: `header`, then option 53, then `options` in order (the first
/// `mandatory` of them always, the rest while they fit), then option 82 when relayed.
pub fn encode_reply(
    request: &Request,
    header: &Header,
    options: &[(u8, Vec<u8>)],
    mandatory: usize,
) -> Option<Vec<u8>> {
    let mut message = Message::default();
    message
        .set_opcode(Opcode::BootReply)
        .set_xid(request.xid)
        .set_flags(flags(request.broadcast))
        .set_hops(0)
        .set_ciaddr(header.ciaddr)
        .set_yiaddr(header.yiaddr)
        .set_siaddr(header.siaddr)
        .set_giaddr(request.giaddr)
        .set_chaddr(&request.chaddr[..6]);
    if let Some(file) = header.file.as_deref().filter(|f| f.len() < 128) {
        message.set_fname_str(file);
    }
    let mut out = Vec::with_capacity(MIN_DATAGRAM);
    message.encode(&mut Encoder::new(&mut out)).ok()?;
    // dhcproto writes chaddr as 16 bytes; keep the client's own padding bytes too.
    if let Some(field) = out.get_mut(28..44) {
        field.copy_from_slice(&request.chaddr);
    }
    let relay = request
        .option(super::message::code::RELAY_AGENT)
        .filter(|_| request.relayed());
    let limit = size_limit(request) - relay.map_or(0, |r| r.len() + 2 * r.len().div_ceil(255)) - 1;
    push(&mut out, DhcpOption::MessageType(header.kind));
    for (i, (code, value)) in options.iter().enumerate() {
        let encoded = encode_option(*code, value)?;
        if i >= mandatory && out.len() + encoded.len() > limit {
            warn!(
                code,
                len = value.len(),
                "DHCP option left out: the reply would exceed the client's size"
            );
            continue;
        }
        out.extend_from_slice(&encoded);
    }
    if let Some(relay) = relay {
        out.extend_from_slice(&encode_option(super::message::code::RELAY_AGENT, relay)?);
    }
    out.push(255);
    if out.len() < MIN_MESSAGE {
        out.resize(MIN_MESSAGE, 0);
    }
    Some(out)
}

/// The DHCP message size the client accepts: 576 − IP/UDP, or more when option 57 says so.
fn size_limit(request: &Request) -> usize {
    let datagram = request
        .max_size()
        .map_or(MIN_DATAGRAM, usize::from)
        .clamp(MIN_DATAGRAM, MAX_DATAGRAM);
    datagram - IP_UDP
}

/// Appends an option (dhcproto's `Encoder` writes from the start of the buffer it is given,
/// so each option is encoded on its own and appended).
fn push(out: &mut Vec<u8>, option: DhcpOption) {
    let mut encoded = Vec::with_capacity(8);
    if option.encode(&mut Encoder::new(&mut encoded)).is_ok() {
        out.extend_from_slice(&encoded);
    }
}

/// One option (split into instances of at most 255 bytes) as bytes.
fn encode_option(code: u8, value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len() + 2);
    DhcpOption::Unknown(UnknownOption::new(code.into(), value.to_vec()))
        .encode(&mut Encoder::new(&mut out))
        .ok()?;
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 3925 §4: enterprise-number1 (4 octets), data-len1 (1), option-data1 (sub-options
    /// code, len, data). ONIE (42623 = 0x0000a67f) with sub-option 1 = "http://s/i".
    #[test]
    fn option_125_encodes_byte_exact() {
        let url = b"http://s/i".to_vec();
        let bytes = encode_vendor_identifying(&[Vendor {
            enterprise: ONIE_ENTERPRISE,
            suboptions: vec![(ONIE_INSTALLER_URL, url)],
        }])
        .unwrap();
        let mut expected = vec![0x00, 0x00, 0xa6, 0x7f, 12, 1, 10];
        expected.extend_from_slice(b"http://s/i");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn option_125_of_onie_decodes_machine_arch_revision() {
        // Two enterprises: 9 (Cisco, empty) then ONIE with sub-options 3, 4, 5.
        let mut bytes = vec![0, 0, 0, 9, 0, 0x00, 0x00, 0xa6, 0x7f, 25];
        bytes.extend_from_slice(&[3, 12]);
        bytes.extend_from_slice(b"accton_as771");
        bytes.extend_from_slice(&[4, 6]);
        bytes.extend_from_slice(b"x86_64");
        bytes.extend_from_slice(&[5, 1, b'0']);
        let vendors = decode_vendor_identifying(&bytes).unwrap();
        assert_eq!(vendors.len(), 2);
        assert_eq!(vendors[0].enterprise, 9);
        assert!(vendors[0].suboptions.is_empty());
        assert_eq!(vendors[1].enterprise, 42623);
        assert_eq!(
            vendors[1].suboptions,
            vec![
                (3, b"accton_as771".to_vec()),
                (4, b"x86_64".to_vec()),
                (5, b"0".to_vec())
            ]
        );
        assert_eq!(encode_vendor_identifying(&vendors).unwrap(), bytes);
    }

    #[test]
    fn option_125_with_a_length_past_the_end_is_refused() {
        assert_eq!(
            decode_vendor_identifying(&[0, 0, 0xa6, 0x7f, 5, 3, 9, b'a']),
            None
        );
        assert_eq!(decode_vendor_identifying(&[0, 0, 0xa6]), None);
        assert_eq!(
            decode_vendor_identifying(&[0, 0, 0xa6, 0x7f, 2, 3, 9]),
            None
        );
    }

    /// RFC 3046 §2.0: SubOpt 1 (circuit id), Len, data; SubOpt 2 (remote id), Len, data.
    #[test]
    fn option_82_round_trips_byte_exact() {
        let bytes = [
            1, 4, b'e', b't', b'h', b'1', 2, 6, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
        ];
        let info = RelayInfo::decode(&bytes).unwrap();
        assert_eq!(info.circuit_id.as_deref(), Some(&b"eth1"[..]));
        assert_eq!(
            info.remote_id.as_deref(),
            Some(&[0, 0x11, 0x22, 0x33, 0x44, 0x55][..])
        );
        assert_eq!(info.encode(), bytes);
        assert_eq!(id_text(info.circuit_id.as_deref().unwrap()), "eth1");
        assert_eq!(
            id_text(info.remote_id.as_deref().unwrap()),
            "00:11:22:33:44:55"
        );
        assert_eq!(RelayInfo::decode(&[1, 5, b'a']), None);
    }
}
