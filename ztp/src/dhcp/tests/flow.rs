//! DISCOVER → OFFER → REQUEST → ACK, renewals, NAKs, RELEASE, DECLINE, exhaustion, expiry,
//! a restart over the same store, and a store that fails.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::*;
use crate::leases::{Lease, LeaseState};

#[tokio::test]
async fn discover_offer_request_ack_grants_a_durable_lease() {
    let mut h = Harness::new(seed_config()).await;
    let mac = MAC;
    let mut discover = client(MessageType::Discover, mac, 0x1234);
    asks(&mut discover, &[1, 3, 6, 15, 51, 54]);
    let (offer, to) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(to, "255.255.255.255:68".parse().unwrap());
    assert_eq!((offer.op, offer.xid, offer.kind()), (2, 0x1234, OFFER));
    assert_eq!(offer.yiaddr, ip("10.0.0.100"));
    assert_eq!(offer.siaddr, ip("10.0.0.5"));
    assert_eq!(offer.chaddr, mac);
    assert_eq!(offer.codes(), [53, 54, 51, 58, 59, 1, 3, 6, 15]);
    assert_eq!(offer.option(1), Some(&[255, 255, 255, 0][..]));
    assert_eq!(offer.option(54), Some(&SERVER.octets()[..]));
    assert_eq!(
        (offer.u32(51), offer.u32(58), offer.u32(59)),
        (600, 300, 525)
    );
    assert!(offer.bytes.len() >= 300 && offer.bytes.len() <= 548);
    assert_eq!(column(&h.last_event(), "log_event"), "ZTP0101I");
    // Offers are held in memory only.
    assert!(h.store.batches.lock().is_empty());

    let mut request = client(MessageType::Request, mac, 0x1235);
    raw(&mut request, 54, &SERVER.octets());
    raw(&mut request, 50, &offer.yiaddr.octets());
    let (ack, _) = h.send(&request, "0.0.0.0:68", T0 + 1_000).await.unwrap();
    assert_eq!(ack.kind(), ACK);
    assert_eq!(ack.yiaddr, ip("10.0.0.100"));
    let event = h.last_event();
    assert_eq!(column(&event, "log_event"), "ZTP0102I");
    assert_eq!(column(&event, "reply"), "ACK");
    assert_eq!(column(&event, "client_ip"), "10.0.0.100");
    assert_eq!(column(&event, "lease_time"), "600");
    assert_eq!(column(&event, "pool_size"), "100");
    assert_eq!(column(&event, "pool_used"), "1");
    assert_eq!(event.hostname, "48:65:ee:11:da:85");
    let durable = LeaseLog::new(h.store.clone(), "x".into())
        .load()
        .await
        .unwrap();
    assert_eq!(durable.len(), 1);
    assert_eq!(durable[0].state, LeaseState::Bound);
    assert_eq!(durable[0].ends, T0 + 1_000 + 600_000_000);
    assert_eq!(h.server.stats().acks, 1);
}

#[tokio::test]
async fn lease_time_asked_is_clamped_to_max() {
    let h = Harness::new(seed_config()).await;
    let mut discover = client(MessageType::Discover, MAC, 1);
    raw(&mut discover, 51, &100_000u32.to_be_bytes());
    let (offer, _) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(offer.u32(51), 7200);
    let mut discover = client(MessageType::Discover, MAC, 1);
    raw(&mut discover, 51, &60u32.to_be_bytes());
    let (offer, _) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(offer.u32(51), 60);
}

#[tokio::test]
async fn renewal_extends_the_lease_and_unicasts_to_ciaddr() {
    let h = Harness::new(seed_config()).await;
    let ack = lease(&h, MAC, T0).await;
    let later = T0 + 300_000_000;
    let mut renew = client(MessageType::Request, MAC, 3);
    renew.set_flags(Flags::default()).set_ciaddr(ack.yiaddr);
    let (renewed, to) = h.send(&renew, "10.0.0.100:68", later).await.unwrap();
    assert_eq!(renewed.kind(), ACK);
    assert_eq!(renewed.ciaddr, ack.yiaddr);
    assert_eq!(to, "10.0.0.100:68".parse().unwrap());
    let lease = h.server.leases().pop().unwrap();
    assert_eq!(lease.ends, later + 600_000_000);
    assert_eq!(lease.starts, T0);
    // A second DISCOVER from the same client gets the same address back.
    let (offer, _) = h
        .send(&client(MessageType::Discover, MAC, 4), "0.0.0.0:68", later)
        .await
        .unwrap();
    assert_eq!(offer.yiaddr, ack.yiaddr);
    assert_eq!(h.server.leases()[0].state, LeaseState::Bound);
}

#[tokio::test]
async fn requests_for_wrong_addresses_are_refused() {
    let mut h = Harness::new(seed_config()).await;
    lease(&h, MAC, T0).await;
    // INIT-REBOOT for an address off the client's network.
    let mut reboot = client(MessageType::Request, [2, 0, 0, 0, 0, 9], 5);
    raw(&mut reboot, 50, &ip("192.168.1.7").octets());
    let (nak, to) = h.send(&reboot, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(nak.kind(), NAK);
    assert_eq!(to, "255.255.255.255:68".parse().unwrap());
    assert_eq!(nak.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(nak.codes(), [53, 54]);
    assert_eq!(column(&h.last_event(), "log_event"), "ZTP0103W");
    // Another client's address.
    let mut other = client(MessageType::Request, [2, 0, 0, 0, 0, 9], 6);
    raw(&mut other, 50, &ip("10.0.0.100").octets());
    assert_eq!(
        h.send(&other, "0.0.0.0:68", T0).await.unwrap().0.kind(),
        NAK
    );
    // An address outside the pool.
    let mut outside = client(MessageType::Request, [2, 0, 0, 0, 0, 9], 7);
    raw(&mut outside, 50, &ip("10.0.0.250").octets());
    assert_eq!(
        h.send(&outside, "0.0.0.0:68", T0).await.unwrap().0.kind(),
        NAK
    );
    // A free pool address is granted (no record after a lost lease).
    let mut free = client(MessageType::Request, [2, 0, 0, 0, 0, 9], 8);
    raw(&mut free, 50, &ip("10.0.0.150").octets());
    let (ack, _) = h.send(&free, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!((ack.kind(), ack.yiaddr), (ACK, ip("10.0.0.150")));
    assert_eq!(h.server.stats().naks, 3);
}

#[tokio::test]
async fn a_server_that_is_not_authoritative_stays_silent() {
    let mut config = seed_config();
    config.authoritative = false;
    let mut h = Harness::new(config).await;
    let mut reboot = client(MessageType::Request, MAC, 5);
    raw(&mut reboot, 50, &ip("192.168.1.7").octets());
    assert!(h.send(&reboot, "0.0.0.0:68", T0).await.is_none());
    let event = h.last_event();
    assert_eq!(column(&event, "log_event"), "ZTP0110W");
    assert!(column(&event, "message").starts_with("not authoritative"));
}

#[tokio::test]
async fn a_request_to_another_server_drops_our_offer() {
    let h = Harness::new(seed_config()).await;
    let (offer, _) = h
        .send(&client(MessageType::Discover, MAC, 1), "0.0.0.0:68", T0)
        .await
        .unwrap();
    assert_eq!(h.server.leases().len(), 1);
    let mut request = client(MessageType::Request, MAC, 2);
    raw(&mut request, 54, &ip("10.0.0.2").octets());
    raw(&mut request, 50, &offer.yiaddr.octets());
    assert!(h.send(&request, "0.0.0.0:68", T0).await.is_none());
    assert!(h.server.leases().is_empty());
}

#[tokio::test]
async fn release_frees_the_address_and_is_persisted() {
    let h = Harness::new(seed_config()).await;
    let ack = lease(&h, MAC, T0).await;
    let mut release = client(MessageType::Release, MAC, 9);
    release.set_ciaddr(ack.yiaddr);
    raw(&mut release, 54, &SERVER.octets());
    assert!(h.send(&release, "10.0.0.100:68", T0 + 10).await.is_none());
    assert!(h.server.leases().is_empty());
    assert!(
        LeaseLog::new(h.store.clone(), "x".into())
            .load()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(h.server.stats().releases, 1);
    // Another client's release of an address it does not hold is ignored.
    let ack = lease(&h, MAC, T0).await;
    let mut release = client(MessageType::Release, LEAF_MAC, 9);
    release.set_ciaddr(ack.yiaddr);
    assert!(h.send(&release, "10.0.0.100:68", T0 + 10).await.is_none());
    assert_eq!(h.server.leases().len(), 1);
}

#[tokio::test]
async fn a_declined_address_is_held_and_the_client_gets_another() {
    let mut h = Harness::new(seed_config()).await;
    let ack = lease(&h, MAC, T0).await;
    let mut decline = client(MessageType::Decline, MAC, 10);
    raw(&mut decline, 50, &ack.yiaddr.octets());
    raw(&mut decline, 54, &SERVER.octets());
    assert!(h.send(&decline, "0.0.0.0:68", T0 + 5).await.is_none());
    assert_eq!(column(&h.last_event(), "log_event"), "ZTP0105W");
    let held = h.server.leases();
    assert_eq!((held.len(), held[0].state), (1, LeaseState::Declined));
    let durable = LeaseLog::new(h.store.clone(), "x".into())
        .load()
        .await
        .unwrap();
    assert_eq!(durable[0].state, LeaseState::Declined);
    let (offer, _) = h
        .send(
            &client(MessageType::Discover, MAC, 11),
            "0.0.0.0:68",
            T0 + 6,
        )
        .await
        .unwrap();
    assert_eq!(offer.yiaddr, ip("10.0.0.101"));
    // After the hold, the sweep frees it.
    let after = T0 + 3_700_000_000;
    assert!(h.server.expire(after).await >= 1);
    assert!(h.server.leases().iter().all(|l| l.ip != ack.yiaddr));
}

#[tokio::test]
async fn an_exhausted_pool_offers_nothing_until_an_offer_lapses() {
    let mut config = seed_config();
    config.subnets[0].ranges = vec![(ip("10.0.0.100"), ip("10.0.0.102"))];
    let mut h = Harness::new(config).await;
    for n in 0..3u8 {
        let (offer, _) = h
            .send(
                &client(MessageType::Discover, [2, 0, 0, 0, 1, n], 1),
                "0.0.0.0:68",
                T0,
            )
            .await
            .unwrap();
        assert_eq!(offer.yiaddr, Ipv4Addr::new(10, 0, 0, 100 + n));
    }
    assert!(
        h.send(
            &client(MessageType::Discover, [2, 0, 0, 0, 1, 9], 1),
            "0.0.0.0:68",
            T0
        )
        .await
        .is_none()
    );
    let event = h.last_event();
    assert_eq!(column(&event, "log_event"), "ZTP0107E");
    assert_eq!(
        (column(&event, "pool_size"), column(&event, "pool_used")),
        ("3".into(), "3".into())
    );
    assert_eq!(h.server.stats().exhausted, 1);
    // 30 s later the offers have lapsed.
    let (offer, _) = h
        .send(
            &client(MessageType::Discover, [2, 0, 0, 0, 1, 9], 1),
            "0.0.0.0:68",
            T0 + 31_000_000,
        )
        .await
        .unwrap();
    assert_eq!(offer.yiaddr, ip("10.0.0.100"));
}

#[tokio::test]
async fn the_requested_address_is_offered_when_free() {
    let h = Harness::new(seed_config()).await;
    let mut discover = client(MessageType::Discover, MAC, 1);
    raw(&mut discover, 50, &ip("10.0.0.142").octets());
    let (offer, _) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(offer.yiaddr, ip("10.0.0.142"));
    let mut discover = client(MessageType::Discover, LEAF_MAC.map(|b| b ^ 1), 1);
    raw(&mut discover, 50, &ip("10.0.0.142").octets());
    let (offer, _) = h.send(&discover, "0.0.0.0:68", T0).await.unwrap();
    assert_eq!(offer.yiaddr, ip("10.0.0.100"));
}

#[tokio::test]
async fn a_restart_over_the_same_store_keeps_the_leases() {
    let store = Arc::new(MemoryStore::default());
    let first = Harness::over(seed_config(), store.clone()).await;
    let ack = lease(&first, MAC, T0).await;
    drop(first);
    let second = Harness::over(seed_config(), store).await;
    let leases = second.server.leases();
    assert_eq!(leases.len(), 1);
    assert_eq!(
        (leases[0].ip, leases[0].mac, leases[0].state),
        (ack.yiaddr, MAC, LeaseState::Bound)
    );
    // Another client does not get it; the owner renews it.
    let (offer, _) = second
        .send(
            &client(MessageType::Discover, LEAF_MAC.map(|b| b ^ 1), 1),
            "0.0.0.0:68",
            T0,
        )
        .await
        .unwrap();
    assert_ne!(offer.yiaddr, ack.yiaddr);
    let mut renew = client(MessageType::Request, MAC, 3);
    renew.set_ciaddr(ack.yiaddr);
    assert_eq!(
        second
            .send(&renew, "10.0.0.100:68", T0 + 1)
            .await
            .unwrap()
            .0
            .kind(),
        ACK
    );
}

#[tokio::test]
async fn ended_leases_expire_into_rows() {
    let h = Harness::new(seed_config()).await;
    lease(&h, MAC, T0).await;
    assert_eq!(h.server.expire(T0 + 601_000_000).await, 1);
    assert!(h.server.leases().is_empty());
    assert!(
        LeaseLog::new(h.store.clone(), "x".into())
            .load()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(h.server.stats().expired, 1);
}

/// A store that refuses every change.
struct Broken;

impl LeaseStore for Broken {
    fn persist(&self, _: Vec<Lease>, _: i64) -> BoxFuture<'static, crate::Result<()>> {
        Box::pin(async { Err(crate::ZtpError::Store("disk full".into())) })
    }
    fn load(&self) -> BoxFuture<'static, crate::Result<Vec<Lease>>> {
        Box::pin(async { Ok(vec![]) })
    }
}

#[tokio::test]
async fn no_ack_goes_out_when_the_lease_cannot_be_stored() {
    let watched = Watched::fixed(
        ZtpDir::new("/nonexistent"),
        ZtpConfig {
            dhcp: seed_config(),
            ..ZtpConfig::default()
        },
    );
    let mut h =
        Harness::with_store(watched, Arc::new(Broken), Arc::new(MemoryStore::default())).await;
    let (offer, _) = h
        .send(&client(MessageType::Discover, MAC, 1), "0.0.0.0:68", T0)
        .await
        .unwrap();
    let mut request = client(MessageType::Request, MAC, 2);
    raw(&mut request, 54, &SERVER.octets());
    raw(&mut request, 50, &offer.yiaddr.octets());
    assert!(h.send(&request, "0.0.0.0:68", T0).await.is_none());
    assert_eq!(column(&h.last_event(), "log_event"), "ZTP0109E");
    assert_eq!(h.server.stats().not_stored, 1);
    // The offer is back as it was, not bound.
    assert_eq!(h.server.leases()[0].state, LeaseState::Offered);
}

#[tokio::test]
async fn a_reloaded_configuration_is_used_by_the_next_message() {
    let h = Harness::new(seed_config()).await;
    lease(&h, MAC, T0).await;
    let mut config = seed_config();
    config.subnets[0].ranges = vec![(ip("10.0.0.50"), ip("10.0.0.59"))];
    let dir = h.watched.dir().clone();
    let replaced = Watched::fixed(
        dir,
        ZtpConfig {
            dhcp: config,
            ..ZtpConfig::default()
        },
    );
    // Watched is shared by clones: swap the inner configuration through a fresh server view.
    let h2 = Harness::with_store(
        replaced,
        Arc::new(LeaseLog::new(h.store.clone(), "x".into())),
        h.store.clone(),
    )
    .await;
    let (offer, _) = h2
        .send(
            &client(MessageType::Discover, LEAF_MAC.map(|b| b ^ 1), 1),
            "0.0.0.0:68",
            T0,
        )
        .await
        .unwrap();
    assert_eq!(offer.yiaddr, ip("10.0.0.50"));
    // The old lease outside every pool stays until it ends.
    assert!(h2.server.leases().iter().any(|l| l.ip == ip("10.0.0.100")));
}
