//! ZTP clients: switches that boot through DHCP and HTTP as ONIE and RtBrick's CTRLD do, talking
//! to a ZTP server through a [`ZtpTransport`] the caller provides (the demo hands the requests to
//! the server's cores at their simulated times; a test answers them itself).
//!
//! **What a switch sends** (the seed and the ONIE specification; see each module):
//! - ONIE ([`dhcp::onie_discover`]): DISCOVER and REQUEST with option 60
//!   `onie_vendor:<arch>-<vendor>_<machine>-r<rev>`, 61 = `00` + serial, 77
//!   `onie_dhcp_user_class`, 125 (enterprise 42623: machine, arch, revision) and the parameter
//!   list of 55; then the installer waterfall ([`http::waterfall`]): option 114's URL, then the
//!   default installer names on the servers of options 72, siaddr and 54, with the ONIE-*
//!   headers, following a redirect to the management server.
//! - The installed NOS: an INIT-REBOOT REQUEST for the address it had, then CTRLD's DHCPINFORM
//!   (61 = the serial, asking for 54 and 210), then the four configuration fetches under option
//!   210's base URL with ONIE-SERIAL-NUMBER, CONTAINER-NAME, ELEMENT-NAME and HOST-NAME, and a
//!   GELF business event after each (ZTP0011I… in the seed's JSON, [`http::gelf_event`]). A
//!   missing file is not fatal, as in the seed.
//! - Afterwards the NOS renews its lease at T1 (option 58, else half the lease) until the end.
//!
//! **The reference fleet** ([`Fleet::reference`]): four new leaves join the reference fabric on
//! its out-of-band management network (192.168.0.0/24, the management server at
//! 192.168.0.254, as in Cumulus' reference topology) a day ago, each reserved in `dhcpd.conf`:
//! leaf05 (22h ago) is provisioned through option 114; leaf06 (21h45m ago) finds no startup
//! configuration in `config.db` (404, ZTP0022W); leaf07 (21h30m ago) gets its address and dies
//! before fetching anything, so its lease is never renewed; leaf08 (21h15m ago), reserved by
//! serial number with no option 114, walks ONIE's default installer names until one is found.
//! [`dir::write`] writes the ZTP directory that serves exactly what they ask for.
//!
//! The client's steps are a state machine per device ([`client`]); [`replay`] runs every device's
//! steps in time order up to an instant, so a store fills with the rows a real boot would leave.
//! The transport is async (boxed futures), so the demo awaits the server's cores in place.

pub mod client;
pub mod dhcp;
pub mod dir;
pub mod fleet;
pub mod http;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

pub use client::{Replay, replay};
pub use fleet::{Fate, Fleet, Installer, Platform, Reservation, ZtpDevice};

/// A boxed future of the transport: the demo awaits a server's async core behind it.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One HTTP request of a switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// The URL the switch asked for, `http://192.168.0.254/ztp/image`.
    pub url: String,
    /// Its path, `/ztp/image`.
    pub path: String,
    /// Header names as the switch sends them (`ONIE-SERIAL-NUMBER`), `Host` first.
    pub headers: Vec<(String, String)>,
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpReply {
    pub status: u16,
    /// The `Location` of a redirect.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// How the simulated switches reach the ZTP server. Every call carries the simulated time `at`
/// (µs) it happens at and the address the switch sends from.
pub trait ZtpTransport: Send + Sync {
    /// A DHCP message to port 67; the server's answer, if it sent one.
    fn dhcp<'a>(
        &'a self,
        at: i64,
        from: SocketAddr,
        message: Vec<u8>,
    ) -> Pending<'a, Option<Vec<u8>>>;

    /// An HTTP request to the management server.
    fn http<'a>(
        &'a self,
        at: i64,
        from: SocketAddr,
        request: HttpRequest,
    ) -> Pending<'a, HttpReply>;

    /// A GELF datagram to the log endpoint (fire and forget).
    fn gelf<'a>(&'a self, at: i64, from: SocketAddr, datagram: Vec<u8>) -> Pending<'a, ()>;
}

/// `48:65:ee:1a:00:05`.
pub fn mac_text(mac: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

#[cfg(test)]
mod tests;
