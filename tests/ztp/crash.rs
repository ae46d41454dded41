//! The server SIGKILLed after its ACKs comes back on the same store and ZTP directory with the
//! same leases: `ztp_leases` holds them, and each pool client gets its own address back.

use std::collections::BTreeMap;

use super::*;

pub fn killed_server_keeps_its_leases(ztp: &mut Ztp, pool: &BTreeMap<String, String>) {
    ztp.server().kill();
    ztp.start_server();

    // The lease table is the state of ztp_leases at now, straight after the restart.
    let now = sonde_schema::row::now_us();
    let held = ztp.sql(&format!(
        "SELECT ip, lower(client_mac) AS mac, state FROM state_at('ztp_leases', {now}) \
         ORDER BY ip"
    ));
    for (mac, ip) in pool {
        assert!(
            held.iter().any(|r| r["ip"] == ip.as_str()
                && r["mac"] == mac.as_str()
                && r["state"] == "bound"),
            "{mac}'s lease of {ip} is not held after the restart: {held:#?}"
        );
    }
    let reserved = held
        .iter()
        .find(|r| r["ip"] == "10.0.0.250")
        .unwrap_or_else(|| panic!("LEAF01's lease is gone: {held:#?}"));
    assert_eq!(reserved["mac"], LEAF01_MAC);

    // The pool's clients, in the other order than they came, get their own addresses back.
    for (mac, ip) in pool.iter().rev() {
        let again = super::dhcp::udhcpc_pool_client(ztp, mac);
        assert_eq!(&again, ip, "{mac} got another address after the restart");
    }
    // And a newcomer gets neither of them.
    let newcomer = super::dhcp::udhcpc_pool_client(ztp, "02:5a:00:00:01:03");
    assert!(
        !pool.values().any(|ip| *ip == newcomer),
        "a new client got {newcomer}, a lease of before the restart"
    );
}
