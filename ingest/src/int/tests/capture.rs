//! Reading INT datagrams out of a legacy pcap written here byte by byte.

use super::*;
use crate::int::{CaptureError, CaptureFilter, read_capture};

/// Ethernet / IPv4 from 10.0.0.13 / UDP to `port`, carrying `payload`.
fn frame(port: u16, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let mut udp = Vec::new();
    udp.extend_from_slice(&4000u16.to_be_bytes());
    udp.extend_from_slice(&port.to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut ip = vec![
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 13, 10, 0, 0, 1,
    ];
    let total = (20 + udp.len()) as u16;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&udp);
    ethernet(0x0800, &ip)
}

fn pcap(frames: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut file = Vec::new();
    file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&4u16.to_le_bytes());
    file.extend_from_slice(&[0; 8]);
    file.extend_from_slice(&65_535u32.to_le_bytes());
    file.extend_from_slice(&1u32.to_le_bytes());
    for (seconds, micros, data) in frames {
        file.extend_from_slice(&seconds.to_le_bytes());
        file.extend_from_slice(&micros.to_le_bytes());
        file.extend_from_slice(&(data.len() as u32).to_le_bytes());
        file.extend_from_slice(&(data.len() as u32).to_le_bytes());
        file.extend_from_slice(data);
    }
    file
}

#[test]
fn the_datagrams_to_the_collector_port_come_out_with_the_capture_times() {
    let capture = pcap(&[
        (1_795_176_000, 250, frame(31337, &flow_report(1, 1_000))),
        (1_795_176_001, 0, frame(53, b"not INT")),
        (1_795_176_002, 999_999, frame(31337, &flow_report(2, 1_000))),
    ]);
    let filter = CaptureFilter { ports: vec![31337] };
    let mut seen = Vec::new();
    let stats = read_capture(
        capture.as_slice(),
        &filter,
        &mut |datagram| {
            let report = decode_one(datagram.payload).expect("an INT report");
            seen.push((datagram.source, datagram.at_us, report.sequence));
        },
        &mut |_| {},
    )
    .expect("reads");
    let exporter = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 13));
    assert_eq!(
        seen,
        [
            (exporter, 1_795_176_000_000_250, 1),
            (exporter, 1_795_176_002_999_999, 2)
        ]
    );
    assert_eq!((stats.packets, stats.datagrams, stats.skipped), (3, 2, 1));
}

#[test]
fn a_capture_cut_short_or_not_a_capture_is_an_error() {
    let capture = pcap(&[(1, 0, frame(31337, &flow_report(1, 1_000)))]);
    let filter = CaptureFilter { ports: Vec::new() };
    let cut = &capture[..capture.len() - 10];
    let result = read_capture(cut, &filter, &mut |_| {}, &mut |_| {});
    assert!(
        matches!(result, Err(CaptureError::Truncated(_))),
        "{result:?}"
    );
    let result = read_capture(
        &b"hello, not a capture at all"[..],
        &filter,
        &mut |_| {},
        &mut |_| {},
    );
    assert!(
        matches!(result, Err(CaptureError::NotACapture)),
        "{result:?}"
    );
}
