//! Which options a reply carries, and in what order.
//!
//! The rule, after isc-dhcp: the server identifier (54) and, on OFFER and ACK of a lease, the
//! lease time (51) with T1 (58, half of it) and T2 (59, seven eighths) always, first. Then every
//! option the client's parameter request list (55) asks for that the scope defines, in the
//! client's order. Then those of subnet mask (1, from the subnet when no option sets it),
//! routers (3), name servers (6), host name (12) and domain name (15) it did not ask for, as
//! isc sends them unasked. Any other configured option goes out only when asked for, with one
//! exception: a client that sent option 125 with ONIE's enterprise number gets option 125
//! back with the installer URL (ONIE's sub-option 1, the scope's option 114) unless the scope
//! configures 125 itself (RFC 3925 §3: a server answers 125 to a client that sent it).
//! Option 67 falls back to the scope's `filename`. Option 82 is echoed last by the encoder.

use std::net::Ipv4Addr;

use super::message::{Request, code};
use super::options::{
    ONIE_ENTERPRISE, ONIE_INSTALLER_URL, Vendor, decode_vendor_identifying,
    encode_vendor_identifying,
};
use super::select::Scope;

/// Options sent unasked when configured (isc's behaviour).
const UNASKED: [u8; 5] = [1, 3, 6, 12, 15];
/// Options the server sets itself, never from the scope.
const OWN: [u8; 7] = [
    code::LEASE_TIME,
    code::MESSAGE_TYPE,
    code::SERVER_ID,
    58,
    59,
    code::RELAY_AGENT,
    code::PARAMETERS,
];

/// The reply's options: (code, payload) in order, and how many of the first are mandatory.
pub fn reply_options(
    scope: &Scope<'_>,
    request: &Request,
    server_id: Ipv4Addr,
    lease_time: Option<u32>,
) -> (Vec<(u8, Vec<u8>)>, usize) {
    let mut list: Vec<(u8, Vec<u8>)> = Vec::with_capacity(16);
    list.push((code::SERVER_ID, server_id.octets().to_vec()));
    if let Some(seconds) = lease_time {
        list.push((code::LEASE_TIME, seconds.to_be_bytes().to_vec()));
        list.push((58, (seconds / 2).to_be_bytes().to_vec()));
        list.push((59, t2(seconds).to_be_bytes().to_vec()));
    }
    let mandatory = list.len();
    let onie = sent_onie_125(request);
    let asked = request.parameters().iter().copied();
    let unasked = UNASKED
        .into_iter()
        .chain(onie.then_some(code::VENDOR_IDENTIFYING));
    for option in asked.chain(unasked) {
        if OWN.contains(&option) || list.iter().any(|(c, _)| *c == option) {
            continue;
        }
        if let Some(value) = value_of(scope, option, onie) {
            list.push((option, value));
        }
    }
    (list, mandatory)
}

/// Seven eighths of the lease (RFC 2131 §4.4.5).
fn t2(seconds: u32) -> u32 {
    u32::try_from(u64::from(seconds) * 7 / 8).unwrap_or(u32::MAX)
}

/// The scope's payload for `option`, with the server's fallbacks.
fn value_of(scope: &Scope<'_>, option: u8, onie: bool) -> Option<Vec<u8>> {
    if let Some(value) = scope.options.get(option) {
        return Some(value.to_bytes());
    }
    match option {
        1 => scope.subnet.map(|s| s.netmask.octets().to_vec()),
        67 => scope.filename.clone().map(String::into_bytes),
        code::VENDOR_IDENTIFYING if onie => {
            let url = scope.options.get(114)?.to_bytes();
            encode_vendor_identifying(&[Vendor {
                enterprise: ONIE_ENTERPRISE,
                suboptions: vec![(ONIE_INSTALLER_URL, url)],
            }])
        }
        _ => None,
    }
}

fn sent_onie_125(request: &Request) -> bool {
    request
        .option(code::VENDOR_IDENTIFYING)
        .and_then(decode_vendor_identifying)
        .is_some_and(|v| v.iter().any(|v| v.enterprise == ONIE_ENTERPRISE))
}
