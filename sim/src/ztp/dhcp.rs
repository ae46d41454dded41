//! DHCPv4 messages as the switches send them, built by hand from RFC 2131's layout (the fixed
//! 236-byte BOOTP header, the magic cookie, then code-length-value options and End), and the
//! server's answers read back the same way.
//!
//! - ONIE (udhcpc under ONIE): DISCOVER and REQUEST carry 60 (`onie_vendor:…`), 61 (`00` +
//!   serial), 77 (`onie_dhcp_user_class`, as text), 125 (enterprise 42623 with sub-options 3
//!   machine, 4 arch, 5 revision) and 55 asking for 1, 3, 6, 7, 12, 15, 28, 42, 43, 54, 66, 67,
//!   72, 114, 150.
//! - The NOS's client: an INIT-REBOOT REQUEST (50 = the address it had, no 54) and renewals
//!   (ciaddr set, unicast) with 61 = `00` + serial, asking for the usual network options.
//! - CTRLD: DHCPINFORM from its address with 61 = the serial itself, asking for 54 and 210.

use std::net::Ipv4Addr;

use super::fleet::ZtpDevice;

pub const DISCOVER: u8 = 1;
pub const OFFER: u8 = 2;
pub const REQUEST: u8 = 3;
pub const ACK: u8 = 5;
pub const NAK: u8 = 6;
pub const INFORM: u8 = 8;

/// ONIE's IANA enterprise number, of option 125.
pub const ONIE_ENTERPRISE: u32 = 42623;
pub const ONIE_USER_CLASS: &str = "onie_dhcp_user_class";
/// What ONIE asks for in option 55.
pub const ONIE_PARAMETERS: [u8; 15] = [1, 3, 6, 7, 12, 15, 28, 42, 43, 54, 66, 67, 72, 114, 150];
/// What the NOS's client asks for.
pub const NOS_PARAMETERS: [u8; 8] = [1, 3, 6, 12, 15, 28, 42, 119];
/// What CTRLD's DHCPINFORM asks for: the server identifier and the path prefix.
pub const CTRLD_PARAMETERS: [u8; 2] = [54, 210];

const COOKIE: [u8; 4] = [99, 130, 83, 99];
const OPTIONS_AT: usize = 240;

/// A message a client sends.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: u8,
    pub xid: u32,
    pub secs: u16,
    pub ciaddr: Ipv4Addr,
    pub mac: [u8; 6],
    /// Options other than 53, in order.
    pub options: Vec<(u8, Vec<u8>)>,
}

impl Message {
    fn new(kind: u8, xid: u32, mac: [u8; 6]) -> Message {
        Message {
            kind,
            xid,
            secs: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            mac,
            options: Vec::new(),
        }
    }

    fn with(mut self, code: u8, value: impl Into<Vec<u8>>) -> Message {
        self.options.push((code, value.into()));
        self
    }

    /// The datagram: BOOTREQUEST, Ethernet, every address but ciaddr zero, options, End.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; OPTIONS_AT];
        bytes[0] = 1; // op: BOOTREQUEST
        bytes[1] = 1; // htype: Ethernet
        bytes[2] = 6; // hlen
        bytes[4..8].copy_from_slice(&self.xid.to_be_bytes());
        bytes[8..10].copy_from_slice(&self.secs.to_be_bytes());
        bytes[12..16].copy_from_slice(&self.ciaddr.octets());
        bytes[28..34].copy_from_slice(&self.mac);
        bytes[236..OPTIONS_AT].copy_from_slice(&COOKIE);
        bytes.extend([53, 1, self.kind]);
        for (code, value) in &self.options {
            // Longer values are split over several instances (RFC 3396).
            for chunk in value.chunks(255) {
                bytes.push(*code);
                bytes.push(chunk.len() as u8);
                bytes.extend_from_slice(chunk);
            }
        }
        bytes.push(255);
        bytes
    }
}

/// Option 61 as ONIE and the NOS send it: type 0, then the serial.
pub fn serial_client_id(serial: &str) -> Vec<u8> {
    let mut id = vec![0];
    id.extend_from_slice(serial.as_bytes());
    id
}

/// Option 125 with ONIE's enterprise and sub-options 3 (machine), 4 (arch), 5 (revision).
pub fn onie_vivso(device: &ZtpDevice) -> Vec<u8> {
    let p = &device.platform;
    let mut data = Vec::new();
    for (code, value) in [
        (3u8, p.machine()),
        (4, p.arch.to_string()),
        (5, p.revision.to_string()),
    ] {
        data.push(code);
        data.push(value.len() as u8);
        data.extend_from_slice(value.as_bytes());
    }
    let mut bytes = ONIE_ENTERPRISE.to_be_bytes().to_vec();
    bytes.push(data.len() as u8);
    bytes.extend(data);
    bytes
}

/// ONIE's options, in the order udhcpc sends them.
fn onie(kind: u8, device: &ZtpDevice, xid: u32) -> Message {
    Message::new(kind, xid, device.mac)
        .with(61, serial_client_id(&device.serial))
        .with(60, device.platform.vendor_class())
        .with(77, ONIE_USER_CLASS)
        .with(125, onie_vivso(device))
        .with(55, ONIE_PARAMETERS)
}

/// ONIE's DHCPDISCOVER.
pub fn onie_discover(device: &ZtpDevice, xid: u32) -> Message {
    onie(DISCOVER, device, xid)
}

/// ONIE's DHCPREQUEST for what `offer` offered.
pub fn onie_request(device: &ZtpDevice, xid: u32, offer: &Reply) -> Message {
    let mut message = onie(REQUEST, device, xid).with(50, offer.yiaddr.octets());
    if let Some(server) = offer.server_id() {
        message = message.with(54, server.octets());
    }
    message
}

/// The NOS's INIT-REBOOT DHCPREQUEST for the address it had before the reboot.
pub fn reboot_request(device: &ZtpDevice, xid: u32, ip: Ipv4Addr) -> Message {
    Message::new(REQUEST, xid, device.mac)
        .with(61, serial_client_id(&device.serial))
        .with(50, ip.octets())
        .with(55, NOS_PARAMETERS)
}

/// The NOS's renewal (RENEWING: ciaddr set, unicast to the server, no 50 or 54).
pub fn renewal(device: &ZtpDevice, xid: u32, ip: Ipv4Addr) -> Message {
    let mut message = Message::new(REQUEST, xid, device.mac)
        .with(61, serial_client_id(&device.serial))
        .with(55, NOS_PARAMETERS);
    message.ciaddr = ip;
    message
}

/// CTRLD's DHCPINFORM: 61 = the serial, asking for 54 and 210.
pub fn ctrld_inform(device: &ZtpDevice, xid: u32, ip: Ipv4Addr) -> Message {
    let mut message = Message::new(INFORM, xid, device.mac)
        .with(61, device.serial.as_bytes())
        .with(55, CTRLD_PARAMETERS);
    message.ciaddr = ip;
    message
}

/// A server's answer, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: u8,
    pub xid: u32,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub options: Vec<(u8, Vec<u8>)>,
}

impl Reply {
    /// Decodes a BOOTREPLY; `None` for anything else or a truncated message.
    pub fn parse(bytes: &[u8]) -> Option<Reply> {
        if bytes.len() < OPTIONS_AT || bytes[0] != 2 || bytes[236..OPTIONS_AT] != COOKIE {
            return None;
        }
        let address =
            |at: usize| Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
        let options = walk(&bytes[OPTIONS_AT..])?;
        let kind = options
            .iter()
            .find(|(c, v)| *c == 53 && v.len() == 1)
            .map(|(_, v)| v[0])?;
        Some(Reply {
            kind,
            xid: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            yiaddr: address(16),
            siaddr: address(20),
            options,
        })
    }

    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    fn text(&self, code: u8) -> Option<String> {
        self.option(code)
            .map(|v| {
                String::from_utf8_lossy(v)
                    .trim_end_matches('\0')
                    .to_string()
            })
            .filter(|s| !s.is_empty())
    }

    fn addresses(&self, code: u8) -> Vec<Ipv4Addr> {
        self.option(code)
            .unwrap_or(&[])
            .chunks_exact(4)
            .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]))
            .collect()
    }

    fn seconds(&self, code: u8) -> Option<u32> {
        let bytes: [u8; 4] = self.option(code)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }

    /// Option 54.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.addresses(54).first().copied()
    }

    /// Option 51, seconds.
    pub fn lease_time(&self) -> Option<u32> {
        self.seconds(51)
    }

    /// Option 58, else half the lease (RFC 2131's T1).
    pub fn renewal_time(&self) -> Option<u32> {
        self.seconds(58)
            .or_else(|| self.lease_time().map(|l| l / 2))
    }

    /// Option 12.
    pub fn host_name(&self) -> Option<String> {
        self.text(12)
    }

    /// Option 114, ONIE's installer URL.
    pub fn default_url(&self) -> Option<String> {
        self.text(114)
    }

    /// Option 210, CTRLD's configuration base.
    pub fn path_prefix(&self) -> Option<String> {
        self.text(210)
    }

    /// Option 72.
    pub fn www_servers(&self) -> Vec<Ipv4Addr> {
        self.addresses(72)
    }

    /// Option 125, ONIE's sub-option 1: an installer URL.
    pub fn vivso_installer(&self) -> Option<String> {
        let mut rest = self.option(125)?;
        while rest.len() >= 5 {
            let enterprise = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let len = usize::from(rest[4]);
            let data = rest.get(5..5 + len)?;
            if enterprise == ONIE_ENTERPRISE {
                let sub = walk(data)?;
                return sub
                    .into_iter()
                    .find(|(c, _)| *c == 1)
                    .map(|(_, v)| String::from_utf8_lossy(&v).into_owned());
            }
            rest = &rest[5 + len..];
        }
        None
    }
}

/// Code-length-value options until End; Pad skipped; instances of a code concatenated.
fn walk(mut rest: &[u8]) -> Option<Vec<(u8, Vec<u8>)>> {
    let mut options: Vec<(u8, Vec<u8>)> = Vec::new();
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            0 => {
                rest = tail;
                continue;
            }
            255 => break,
            _ => {}
        }
        let (&len, tail) = tail.split_first()?;
        let value = tail.get(..usize::from(len))?;
        match options.iter_mut().find(|(c, _)| *c == code) {
            Some((_, existing)) => existing.extend_from_slice(value),
            None => options.push((code, value.to_vec())),
        }
        rest = &tail[usize::from(len)..];
    }
    Some(options)
}
