//! Reservations by MAC, client id and serial; CTRLD's INFORM; ONIE's class and option 125;
//! relayed requests with option 82 echoed.

use super::*;

const ONIE_PRL: [u8; 15] = [1, 3, 6, 7, 12, 15, 28, 42, 43, 54, 66, 67, 72, 114, 150];

#[tokio::test]
async fn a_host_reserved_by_mac_gets_its_fixed_address_and_options() {
    let mut h = Harness::new(seed_config()).await;
    let mut discover = client(MessageType::Discover, LEAF_MAC, 1);
    asks(&mut discover, &[114, 1, 3, 210]);
    let (offer, _) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(offer.yiaddr, ip("10.0.0.20"));
    // Mandatory first, then the client's order, then what isc sends unasked.
    assert_eq!(
        offer.codes(),
        [53, 54, 51, 58, 59, 114, 1, 3, 210, 6, 12, 15]
    );
    assert_eq!(offer.option(12), Some(&b"LEAF01"[..]));
    assert_eq!(
        offer.option(114),
        Some(&b"http://managementserver/ztp/image"[..])
    );
    let event = h.last_event();
    assert_eq!(event.hostname, "LEAF01");
    assert_eq!(column(&event, "host"), "leaf01");
    assert_eq!(
        column(&event, "default_url"),
        "http://managementserver/ztp/image"
    );
    // Nobody else is given the fixed address, even asking for it.
    let mut other = client(MessageType::Discover, MAC, 2);
    raw(&mut other, 50, &ip("10.0.0.20").octets());
    let (offer, _) = h.send(&other, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(offer.yiaddr, ip("10.0.0.100"));
    let mut request = client(MessageType::Request, MAC, 3);
    raw(&mut request, 50, &ip("10.0.0.20").octets());
    assert_eq!(
        h.send(&request, "0.0.0.0:68", T0).await.unwrap().0.kind(),
        NAK
    );
}

#[tokio::test]
async fn a_host_reserved_by_client_id_or_serial_is_found() {
    let mut config = seed_config();
    config.subnets[0].hosts.push(Host {
        name: "spine01".into(),
        client_id: Some(b"\x01\x02\x03".to_vec()),
        fixed_address: Some(ip("10.0.0.30")),
        ..Host::default()
    });
    config.subnets[0].hosts.push(Host {
        name: "spine02".into(),
        serial: Some(SERIAL.into()),
        fixed_address: Some(ip("10.0.0.31")),
        ..Host::default()
    });
    let mut h = Harness::new(config).await;
    let mut by_id = client(MessageType::Discover, [2, 0, 0, 0, 0, 1], 1);
    raw(&mut by_id, 61, b"\x01\x02\x03");
    assert_eq!(
        h.send(&by_id, "0.0.0.0:68", T0).await.unwrap().0.yiaddr,
        ip("10.0.0.30")
    );
    // ONIE's form: type 0 then the serial.
    let mut by_serial = client(MessageType::Discover, [2, 0, 0, 0, 0, 2], 2);
    raw(&mut by_serial, 61, &serial_id(SERIAL));
    assert_eq!(
        h.send(&by_serial, "0.0.0.0:68", T0).await.unwrap().0.yiaddr,
        ip("10.0.0.31")
    );
    let event = h.last_event();
    assert_eq!(column(&event, "serial"), SERIAL);
    assert_eq!(column(&event, "host"), "spine02");
    assert_eq!(event.hostname, "spine02");
    // A printable identifier is a serial too.
    let mut text_serial = client(MessageType::Discover, [2, 0, 0, 0, 0, 3], 3);
    raw(&mut text_serial, 61, SERIAL.as_bytes());
    assert_eq!(
        h.send(&text_serial, "0.0.0.0:68", T0)
            .await
            .unwrap()
            .0
            .yiaddr,
        ip("10.0.0.31")
    );
    // Type 1 + MAC is not a serial.
    let mut hw = client(MessageType::Discover, [2, 0, 0, 0, 0, 4], 4);
    raw(&mut hw, 61, &[1, 2, 0, 0, 0, 0, 4]);
    assert_eq!(
        h.send(&hw, "0.0.0.0:68", T0).await.unwrap().0.yiaddr,
        ip("10.0.0.100")
    );
    assert_eq!(column(&h.last_event(), "serial"), "");
}

#[tokio::test]
async fn ctrld_inform_with_its_serial_gets_option_210_and_54() {
    let mut config = seed_config();
    config.subnets[0].hosts[0].serial = Some(SERIAL.into());
    let mut h = Harness::new(config).await;
    let mut inform = client(MessageType::Inform, [2, 0, 0, 0, 0, 7], 0xc7);
    inform
        .set_flags(Flags::default())
        .set_ciaddr(ip("10.0.0.20"));
    raw(&mut inform, 61, &serial_id(SERIAL));
    asks(&mut inform, &[54, 210]);
    let (ack, to) = h.send(&inform, "10.0.0.20:68", T0).await.unwrap();
    assert_eq!(to, "10.0.0.20:68".parse().unwrap());
    assert_eq!(ack.kind(), ACK);
    assert_eq!(
        (ack.yiaddr, ack.ciaddr),
        (Ipv4Addr::UNSPECIFIED, ip("10.0.0.20"))
    );
    assert_eq!(ack.option(210), Some(&b"http://managementserver"[..]));
    assert_eq!(ack.option(54), Some(&SERVER.octets()[..]));
    assert_eq!(ack.option(51), None);
    assert_eq!(ack.option(58), None);
    let event = h.last_event();
    assert_eq!(column(&event, "log_event"), "ZTP0106I");
    assert_eq!(column(&event, "path_prefix"), "http://managementserver");
    assert_eq!(column(&event, "requested_options"), "54,210");
    assert!(h.server.leases().is_empty());
}

/// ONIE's option 125: enterprise 42623, sub-options 3 machine, 4 arch, 5 revision.
fn onie_125() -> Vec<u8> {
    let mut data = vec![3, 16];
    data.extend_from_slice(b"accton_as7712_32");
    data.extend_from_slice(&[4, 6]);
    data.extend_from_slice(b"x86_64");
    data.extend_from_slice(&[5, 1, b'0']);
    let mut bytes = vec![0x00, 0x00, 0xa6, 0x7f, u8::try_from(data.len()).unwrap()];
    bytes.extend_from_slice(&data);
    bytes
}

#[tokio::test]
async fn onie_matches_its_class_and_gets_114_and_125() {
    let mut h = Harness::new(seed_config()).await;
    let mut discover = client(MessageType::Discover, MAC, 1);
    raw(
        &mut discover,
        60,
        b"onie_vendor:x86_64-accton_as7712_32x-r0",
    );
    raw(&mut discover, 77, b"onie_dhcp_user_class");
    raw(&mut discover, 61, &serial_id(SERIAL));
    raw(&mut discover, 125, &onie_125());
    asks(&mut discover, &ONIE_PRL);
    let (offer, _) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    let url = b"http://managementserver/onie-installer";
    assert_eq!(offer.option(114), Some(&url[..]));
    let mut expected = vec![
        0x00,
        0x00,
        0xa6,
        0x7f,
        2 + url.len() as u8,
        1,
        url.len() as u8,
    ];
    expected.extend_from_slice(url);
    assert_eq!(offer.option(125), Some(expected.as_slice()));
    let event = h.last_event();
    assert_eq!(column(&event, "class"), "onie");
    assert_eq!(column(&event, "onie_machine"), "accton_as7712_32");
    assert_eq!(column(&event, "onie_arch"), "x86_64");
    assert_eq!(column(&event, "onie_revision"), "0");
    assert_eq!(
        column(&event, "vendor_class"),
        "onie_vendor:x86_64-accton_as7712_32x-r0"
    );
    assert_eq!(column(&event, "user_class"), "onie_dhcp_user_class");
    assert_eq!(event.hostname, SERIAL);
}

#[tokio::test]
async fn a_relayed_request_is_answered_to_the_relay_with_option_82_echoed() {
    let mut config = seed_config();
    config.subnets.push(Subnet {
        network: ip("10.1.0.0"),
        netmask: ip("255.255.255.0"),
        ranges: vec![(ip("10.1.0.10"), ip("10.1.0.20"))],
        options: Options::default(),
        hosts: vec![],
        default_lease_time: Some(120),
        max_lease_time: None,
        next_server: None,
        filename: Some("onie-installer".into()),
    });
    let mut h = Harness::new(config).await;
    let relay82 = [
        1, 4, b's', b'w', b'p', b'3', 2, 3, b'l', b'f', b'1', 9, 2, 0xab, 0xcd,
    ];
    let mut discover = client(MessageType::Discover, MAC, 1);
    discover.set_giaddr(ip("10.1.0.1")).set_hops(1);
    raw(&mut discover, 82, &relay82);
    let (offer, to) = h.send(&discover, "10.1.0.1:67", T0).await.unwrap();
    assert_eq!(to, "10.1.0.1:67".parse().unwrap());
    assert_eq!(offer.giaddr, ip("10.1.0.1"));
    assert_eq!(offer.yiaddr, ip("10.1.0.10"));
    assert_eq!(offer.u32(51), 120);
    assert_eq!(offer.codes().last(), Some(&82));
    assert_eq!(offer.option(82), Some(&relay82[..]));
    assert_eq!(&offer.bytes[108..122], b"onie-installer");
    let event = h.last_event();
    assert_eq!(column(&event, "relay_ip"), "10.1.0.1");
    assert_eq!(column(&event, "circuit_id"), "swp3");
    assert_eq!(column(&event, "remote_id"), "lf1");
    assert_eq!(column(&event, "subnet"), "10.1.0.0/24");
    // A relay on a subnet nobody configured: nothing.
    let mut stray = client(MessageType::Discover, MAC, 2);
    stray.set_giaddr(ip("172.16.0.1"));
    assert!(h.send(&stray, "172.16.0.1:67", T0).await.is_none());
    assert_eq!(column(&h.last_event(), "log_event"), "ZTP0108W");
}

#[tokio::test]
async fn a_small_client_gets_the_mandatory_options_and_what_fits() {
    let mut config = seed_config();
    config.subnets[0].options.set(239, text(&"x".repeat(250)));
    config.subnets[0].options.set(114, text(&"y".repeat(250)));
    let h = Harness::new(config).await;
    let mut discover = client(MessageType::Discover, MAC, 1);
    asks(&mut discover, &[239, 114, 1]);
    let (offer, _) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    assert!(offer.bytes.len() <= 548, "{}", offer.bytes.len());
    assert!(offer.option(51).is_some() && offer.option(54).is_some());
    assert!(offer.option(239).is_some());
    assert!(offer.option(114).is_none());
    assert!(offer.option(1).is_some());
    // Option 57 allows more.
    let mut big = client(MessageType::Discover, MAC, 1);
    asks(&mut big, &[239, 114, 1]);
    raw(&mut big, 57, &1500u16.to_be_bytes());
    let (offer, _) = h.send(&big, "0.0.0.0:68", T0).await.unwrap();
    assert!(offer.option(114).is_some() && offer.option(239).is_some());
}
