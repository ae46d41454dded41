//! Malformed input never panics and is counted; many clients at once get distinct addresses;
//! the run loop over a real UDP socket on loopback.

use std::collections::HashSet;

use super::*;

/// xorshift64*: deterministic bytes without a dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn byte(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }
}

fn full_discover() -> Vec<u8> {
    let mut discover = client(MessageType::Discover, MAC, 7);
    raw(
        &mut discover,
        60,
        b"onie_vendor:x86_64-accton_as7712_32x-r0",
    );
    raw(&mut discover, 61, &serial_id(SERIAL));
    raw(&mut discover, 125, &[0, 0, 0xa6, 0x7f, 3, 3, 1, b'm']);
    raw(&mut discover, 82, &[1, 1, b'c', 2, 1, b'r']);
    asks(&mut discover, &[1, 3, 114, 125]);
    encode(&discover)
}

#[tokio::test]
async fn random_truncated_and_mutated_datagrams_never_panic() {
    let h = Harness::new(seed_config()).await;
    let from: SocketAddr = "10.0.0.9:68".parse().unwrap();
    let valid = full_discover();
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut sent = 0u64;
    for len in 0..valid.len() {
        h.server.handle(&valid[..len], from, T0).await;
        sent += 1;
    }
    for _ in 0..3000 {
        let mut bytes = valid.clone();
        for _ in 0..1 + noise.next() % 8 {
            let at = (noise.next() as usize) % bytes.len();
            bytes[at] = noise.byte();
        }
        h.server.handle(&bytes, from, T0).await;
        let len = (noise.next() % 600) as usize;
        let random: Vec<u8> = (0..len).map(|_| noise.byte()).collect();
        h.server.handle(&random, from, T0).await;
        // A valid header followed by random options.
        let mut tail = valid[..240].to_vec();
        tail.extend((0..noise.next() % 300).map(|_| noise.byte()));
        h.server.handle(&tail, from, T0).await;
        sent += 3;
    }
    let stats = h.server.stats();
    assert_eq!(stats.received, sent);
    assert!(stats.malformed > 3000);
}

#[tokio::test]
async fn replies_and_other_hardware_are_not_answered() {
    let h = Harness::new(seed_config()).await;
    let from: SocketAddr = "10.0.0.9:68".parse().unwrap();
    let mut reply = full_discover();
    reply[0] = 2;
    assert!(h.server.handle(&reply, from, T0).await.is_none());
    let mut token_ring = full_discover();
    token_ring[1] = 6;
    assert!(h.server.handle(&token_ring, from, T0).await.is_none());
    let mut long_hw = full_discover();
    long_hw[2] = 16;
    assert!(h.server.handle(&long_hw, from, T0).await.is_none());
    let mut no_cookie = full_discover();
    no_cookie[236] = 0;
    assert!(h.server.handle(&no_cookie, from, T0).await.is_none());
    assert_eq!(h.server.stats().malformed, 4);
    assert!(h.server.handle(&full_discover(), from, T0).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_get_distinct_addresses() {
    let h = Arc::new(Harness::new(seed_config()).await);
    let mut tasks = Vec::new();
    for n in 0..100u8 {
        let h = Arc::clone(&h);
        tasks.push(tokio::spawn(async move {
            lease(&h, [2, 0, 0, 0, 2, n], T0).await.yiaddr
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        assert!(seen.insert(task.await.unwrap()));
    }
    assert_eq!(seen.len(), 100);
    assert_eq!(h.server.leases().len(), 100);
    // The 101st finds the pool exhausted.
    let discover = client(MessageType::Discover, [2, 0, 0, 0, 3, 0], 1);
    assert!(h.send(&discover, "0.0.0.0:68", T0).await.is_none());
}

#[tokio::test]
async fn the_run_loop_answers_over_a_real_socket() {
    let mut config = seed_config();
    config.subnets.push(Subnet {
        network: ip("127.0.0.0"),
        netmask: ip("255.0.0.0"),
        ranges: vec![(ip("127.0.10.1"), ip("127.0.10.9"))],
        options: Options::default(),
        hosts: vec![],
        default_lease_time: None,
        max_lease_time: None,
        next_server: None,
        filename: None,
    });
    let h = Harness::new(config).await;
    let socket = crate::dhcp::bind("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let server_addr = socket.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(h.server.clone().run(socket, async {
        let _ = stopped.await;
    }));
    // A relay on loopback: giaddr = 127.0.0.1, so the reply comes back unicast.
    let relay = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut discover = client(MessageType::Discover, MAC, 0xabcd);
    discover.set_giaddr(ip("127.0.0.1"));
    relay
        .send_to(&encode(&discover), server_addr)
        .await
        .unwrap();
    let mut buf = [0u8; 1500];
    let (len, from) = tokio::time::timeout(Duration::from_secs(5), relay.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, server_addr);
    let offer = Reply::parse(&buf[..len]);
    assert_eq!(
        (offer.kind(), offer.xid, offer.yiaddr),
        (OFFER, 0xabcd, ip("127.0.10.1"))
    );
    // Garbage is counted, not fatal.
    relay.send_to(b"not dhcp", server_addr).await.unwrap();
    let mut request = client(MessageType::Request, MAC, 0xabce);
    request.set_giaddr(ip("127.0.0.1"));
    raw(&mut request, 54, &SERVER.octets());
    raw(&mut request, 50, &offer.yiaddr.octets());
    relay.send_to(&encode(&request), server_addr).await.unwrap();
    let (len, _) = tokio::time::timeout(Duration::from_secs(5), relay.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Reply::parse(&buf[..len]).kind(), ACK);
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    let stats = h.server.stats();
    assert_eq!((stats.received, stats.answered, stats.malformed), (3, 2, 1));
}

/// Serves 10.77.0.0/16 on 0.0.0.0:67 bound to `SONDE_DHCP_IFACE` for `SONDE_DHCP_SECS`
/// seconds, for real clients in another network namespace (run inside the server's namespace
/// with `ip netns exec … <test binary> --ignored --exact …`); prints what it saw.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and a veth pair between namespaces"]
async fn serves_real_clients_on_a_bound_interface() {
    let iface = std::env::var("SONDE_DHCP_IFACE").unwrap();
    let secs: u64 = std::env::var("SONDE_DHCP_SECS").map_or(20, |s| s.parse().unwrap());
    let mut config = seed_config();
    let mut options = Options::default();
    options.set(3, OptionValue::IpAddresses(vec![ip("10.77.0.1")]));
    options.set(114, text("http://10.77.0.1/onie-installer"));
    options.set(210, text("http://10.77.0.1"));
    config.subnets = vec![Subnet {
        network: ip("10.77.0.0"),
        netmask: ip("255.255.0.0"),
        ranges: vec![(ip("10.77.1.1"), ip("10.77.250.254"))],
        options,
        hosts: vec![],
        default_lease_time: Some(60),
        max_lease_time: None,
        next_server: None,
        filename: None,
    }];
    let store = Arc::new(MemoryStore::default());
    let watched = Watched::fixed(
        ZtpDir::new("/nonexistent"),
        ZtpConfig {
            dhcp: config,
            ..ZtpConfig::default()
        },
    );
    let log = Arc::new(LeaseLog::new(store.clone(), "10.77.0.1".into()));
    let (recorder, mut events) = Recorder::discard();
    let server = DhcpServer::start(
        watched,
        log,
        recorder,
        DhcpOptions {
            interface: Some(iface.clone()),
            ..DhcpOptions::default()
        },
    )
    .await
    .unwrap();
    let socket = crate::dhcp::bind("0.0.0.0:67".parse().unwrap(), Some(&iface)).unwrap();
    let run = server
        .clone()
        .run(socket, tokio::time::sleep(Duration::from_secs(secs)));
    run.await.unwrap();
    println!(
        "server id {} stats {:?}",
        server.server_id(),
        server.stats()
    );
    for lease in server.leases().iter().take(20) {
        println!(
            "lease {} {} {:?}",
            lease.ip,
            crate::leases::mac_text(&lease.mac),
            lease.state
        );
    }
    while let Ok(event) = events.try_recv() {
        if column(&event, "reply").is_empty() {
            println!(
                "{} {}",
                column(&event, "message_type"),
                column(&event, "message")
            );
        }
    }
}
