//! What a request says: the fixed BOOTP fields at their RFC 2131 §2 offsets and the options as
//! the raw bytes the client sent (RFC 2132 §2), with dhcproto's types (opcode, hardware type,
//! flags, message type) for their meaning. dhcproto's own `Message::decode` is not used on
//! datagrams from the network: it decodes every option into a typed value and asserts on some
//! lengths (`debug_assert!(len == 4)` for the bulk lease query times), which a malformed
//! datagram would turn into a panic.
//!
//! The options are kept raw because the server compares them byte for byte (class conditions,
//! client identifiers, reservations by serial), decodes 82 and 125 itself and echoes option 82
//! back unchanged (RFC 3046 §2.2). An option that appears several times is the concatenation of
//! its instances (RFC 3396). Options overloaded into `sname`/`file` (option 52) are not read:
//! no ZTP client sends them.
//!
//! Only Ethernet requests are served (`htype` 1, `hlen` 6); anything else, a BOOTREPLY, a wrong
//! magic cookie, or a message without a known DHCP message type, is [`Malformed`] or ignored.

use std::net::Ipv4Addr;

use dhcproto::v4::{Flags, HType, MessageType, Opcode};

/// Why a datagram is not a request the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Too short, or dhcproto refused the fixed fields.
    Undecodable,
    /// The magic cookie is not 99.130.83.99.
    NoCookie,
    /// An option's length runs past the end.
    Truncated,
    /// A BOOTREPLY (another server's answer seen on the wire).
    Reply,
    /// Not Ethernet (`htype` 1 with `hlen` 6).
    Hardware,
    /// No option 53, or a type a client does not send.
    MessageType,
}

impl Malformed {
    pub fn text(self) -> &'static str {
        match self {
            Malformed::Undecodable => "undecodable message",
            Malformed::NoCookie => "no DHCP magic cookie",
            Malformed::Truncated => "option runs past the end",
            Malformed::Reply => "a BOOTREPLY",
            Malformed::Hardware => "not an Ethernet client",
            Malformed::MessageType => "no client message type",
        }
    }
}

/// What a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Discover,
    Request,
    Decline,
    Release,
    Inform,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Discover => "DISCOVER",
            Kind::Request => "REQUEST",
            Kind::Decline => "DECLINE",
            Kind::Release => "RELEASE",
            Kind::Inform => "INFORM",
        }
    }
}

/// Option codes the server reads.
pub mod code {
    pub const HOST_NAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETERS: u8 = 55;
    pub const MAX_SIZE: u8 = 57;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const USER_CLASS: u8 = 77;
    pub const RELAY_AGENT: u8 = 82;
    pub const VENDOR_IDENTIFYING: u8 = 125;
}

const COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Where the options start: the fixed fields (236 bytes) and the cookie.
pub const OPTIONS_AT: usize = 240;

/// One decoded request.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    pub xid: u32,
    pub secs: u16,
    pub broadcast: bool,
    pub hops: u8,
    pub ciaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub mac: [u8; 6],
    /// chaddr as sent (16 bytes), echoed in the reply.
    pub chaddr: [u8; 16],
    /// Each option once, instances concatenated, in the order first seen.
    options: Vec<(u8, Vec<u8>)>,
}

impl Request {
    /// Decodes a datagram received on port 67.
    pub fn parse(bytes: &[u8]) -> Result<Request, Malformed> {
        if bytes.len() < OPTIONS_AT {
            return Err(Malformed::Undecodable);
        }
        if bytes[236..OPTIONS_AT] != COOKIE {
            return Err(Malformed::NoCookie);
        }
        if Opcode::from(bytes[0]) != Opcode::BootRequest {
            return Err(Malformed::Reply);
        }
        if HType::from(bytes[1]) != HType::Eth || bytes[2] != 6 {
            return Err(Malformed::Hardware);
        }
        let options = walk_options(&bytes[OPTIONS_AT..])?;
        let kind = match options.iter().find(|(c, _)| *c == code::MESSAGE_TYPE) {
            Some((_, v)) if v.len() == 1 => kind_of(v[0]).ok_or(Malformed::MessageType)?,
            _ => return Err(Malformed::MessageType),
        };
        let u16_at = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
        let addr_at =
            |at: usize| Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
        let mut chaddr = [0u8; 16];
        chaddr.copy_from_slice(&bytes[28..44]);
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&chaddr[..6]);
        Ok(Request {
            kind,
            xid: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            secs: u16_at(8),
            broadcast: Flags::new(u16_at(10)).broadcast(),
            hops: bytes[3],
            ciaddr: addr_at(12),
            giaddr: addr_at(24),
            mac,
            chaddr,
            options,
        })
    }

    /// The option's bytes, when the client sent it.
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    /// Every option the client sent, in the order first seen.
    pub fn options(&self) -> impl Iterator<Item = (u8, &[u8])> {
        self.options.iter().map(|(c, v)| (*c, v.as_slice()))
    }

    fn address(&self, code: u8) -> Option<Ipv4Addr> {
        let bytes: [u8; 4] = self.option(code)?.try_into().ok()?;
        Some(Ipv4Addr::from(bytes))
    }

    /// Option 50.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.address(code::REQUESTED_IP)
    }

    /// Option 54.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.address(code::SERVER_ID)
    }

    /// Option 51, seconds.
    pub fn lease_time(&self) -> Option<u32> {
        let bytes: [u8; 4] = self.option(code::LEASE_TIME)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }

    /// Option 57, bytes.
    pub fn max_size(&self) -> Option<u16> {
        let bytes: [u8; 2] = self.option(code::MAX_SIZE)?.try_into().ok()?;
        Some(u16::from_be_bytes(bytes))
    }

    /// Option 55: the codes in the client's order (empty when it sent none).
    pub fn parameters(&self) -> &[u8] {
        self.option(code::PARAMETERS).unwrap_or(&[])
    }

    /// Option 61.
    pub fn client_id(&self) -> Option<&[u8]> {
        self.option(code::CLIENT_ID).filter(|id| !id.is_empty())
    }

    /// The serial number option 61 carries: ONIE and CTRLD send type 0 followed by the serial;
    /// an identifier that is all printable text is taken as a serial too. Type 1 + MAC is not.
    pub fn serial(&self) -> Option<String> {
        serial_of(self.client_id()?)
    }

    /// Option 60 as text.
    pub fn vendor_class(&self) -> Option<String> {
        self.option(code::VENDOR_CLASS).map(text)
    }

    /// Option 77 as text (its instances' bytes, non-printable ones dropped).
    pub fn user_class(&self) -> Option<String> {
        self.option(code::USER_CLASS).map(text)
    }

    /// Option 12 as the client sent it.
    pub fn host_name(&self) -> Option<String> {
        self.option(code::HOST_NAME).map(text)
    }

    pub fn relayed(&self) -> bool {
        !self.giaddr.is_unspecified()
    }
}

fn kind_of(byte: u8) -> Option<Kind> {
    match MessageType::from(byte) {
        MessageType::Discover => Some(Kind::Discover),
        MessageType::Request => Some(Kind::Request),
        MessageType::Decline => Some(Kind::Decline),
        MessageType::Release => Some(Kind::Release),
        MessageType::Inform => Some(Kind::Inform),
        _ => None,
    }
}

/// The options area: code, length, value until End (255); Pad (0) skipped. A missing End is
/// tolerated (many clients pad with zeros instead); a length past the end is not.
fn walk_options(mut rest: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, Malformed> {
    let mut options: Vec<(u8, Vec<u8>)> = Vec::with_capacity(16);
    while let Some((&code, tail)) = rest.split_first() {
        match code {
            0 => {
                rest = tail;
                continue;
            }
            255 => break,
            _ => {}
        }
        let (&len, tail) = tail.split_first().ok_or(Malformed::Truncated)?;
        let len = usize::from(len);
        if tail.len() < len {
            return Err(Malformed::Truncated);
        }
        let (value, tail) = tail.split_at(len);
        match options.iter_mut().find(|(c, _)| *c == code) {
            Some((_, existing)) => existing.extend_from_slice(value),
            None => options.push((code, value.to_vec())),
        }
        rest = tail;
    }
    Ok(options)
}

/// The serial in a client identifier (see [`Request::serial`]).
pub fn serial_of(id: &[u8]) -> Option<String> {
    let printable = |bytes: &[u8]| {
        !bytes.is_empty() && bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
    };
    match id.split_first() {
        Some((0, serial)) if printable(serial) => {
            Some(String::from_utf8_lossy(serial).trim().to_string())
        }
        _ if printable(id) => Some(String::from_utf8_lossy(id).trim().to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// Bytes as text for an event column: printable ASCII kept, the rest dropped.
pub fn text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .filter(|b| b.is_ascii_graphic() || **b == b' ')
        .map(|b| char::from(*b))
        .collect()
}

/// Flags with the broadcast bit set or not.
pub fn flags(broadcast: bool) -> Flags {
    if broadcast {
        Flags::default().set_broadcast()
    } else {
        Flags::default()
    }
}
