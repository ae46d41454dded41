//! Reading attributes: a message's top-level ones, nested ones walked in place, and the values
//! they hold (integers, addresses, strings, link-layer addresses); the address families.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use neli::consts::rtnl::RtaType;
use neli::types::{Buffer, RtBuffer};

// Address families (linux/socket.h).
pub(super) const AF_UNSPEC: u8 = 0;
pub(super) const AF_INET: u8 = 2;
pub(super) const AF_BRIDGE: u8 = 7;
pub(super) const AF_INET6: u8 = 10;

/// Attribute type bits; the top two are the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// A message's top-level attributes as (type, payload).
pub(super) fn attributes<T: RtaType>(
    attrs: &RtBuffer<T, Buffer>,
) -> impl Iterator<Item = (u16, &[u8])> {
    attrs.iter().map(|attr| {
        let kind: u16 = (*attr.rta_type()).into();
        (kind & NLA_TYPE_MASK, attr.rta_payload().as_ref())
    })
}

/// The attributes packed in `bytes` (a nested attribute's payload) as (type, payload); stops at
/// the first malformed one.
pub(super) fn nested(bytes: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let len = usize::from(u16_of(rest)?);
        let kind = u16_of(rest.get(2..)?)? & NLA_TYPE_MASK;
        let payload = rest.get(4..len)?;
        rest = rest.get(align4(len)..).unwrap_or_default();
        Some((kind, payload))
    })
}

/// Attributes are padded to 4 bytes.
pub(super) fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// A native-endian u16 at the start of `bytes`.
pub(super) fn u16_of(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(..2)?.try_into().ok()?))
}

/// A native-endian u32 at the start of `bytes`.
pub(super) fn u32_of(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
pub(super) fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        Some(IpAddr::V4(Ipv4Addr::from(v4)))
    } else {
        <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
    }
}

/// A NUL-terminated (or not) string; `None` when empty.
pub(super) fn str_of(bytes: &[u8]) -> Option<String> {
    let text = bytes.split(|b| *b == 0).next().unwrap_or_default();
    (!text.is_empty()).then(|| String::from_utf8_lossy(text).into_owned())
}

/// Link-layer address as lowercase `aa:bb:…`; `None` when empty.
pub(super) fn hex_of(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            text.push(':');
        }
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    Some(text)
}

/// The `family` column of an AF_INET or AF_INET6 object; `None` for other families.
pub(super) fn family_name(family: u8) -> Option<&'static str> {
    match family {
        AF_INET => Some("ipv4"),
        AF_INET6 => Some("ipv6"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::netlink::test_support::attr;

    #[test]
    fn nested_attributes_stop_at_a_malformed_one() {
        let mut bytes = attr(1, &[1, 2, 3]);
        bytes.extend(attr(2 | 0x8000, &[4; 4]));
        let read: Vec<_> = nested(&bytes).collect();
        assert_eq!(read, vec![(1, &[1u8, 2, 3][..]), (2, &[4u8; 4][..])]);
        // A length below the header, or beyond the buffer, ends the walk.
        assert_eq!(nested(&[2, 0, 1, 0]).count(), 0);
        assert_eq!(nested(&[200, 0, 1, 0, 9]).count(), 0);
        assert_eq!(nested(&[8, 0]).count(), 0);
    }

    #[test]
    fn values_read_as_the_kernel_writes_them() {
        assert_eq!(str_of(b"swp1\0\0\0\0").as_deref(), Some("swp1"));
        assert_eq!(str_of(b"\0"), None);
        assert_eq!(
            hex_of(&[0x02, 0, 0xab, 0, 0, 0x1f]).as_deref(),
            Some("02:00:ab:00:00:1f")
        );
        assert_eq!(hex_of(&[]), None);
        assert_eq!(
            ip_of(&[10, 0, 0, 1]),
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(ip_of(&[0; 16]), Some(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
        assert_eq!(ip_of(&[1, 2, 3]), None);
        assert_eq!(u32_of(&[1, 0]), None);
        assert_eq!(family_name(AF_BRIDGE), None);
    }
}
