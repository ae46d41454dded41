//! FRR through `vtysh -c '… json'`: BGP sessions of every VRF, OSPF interfaces of every VRF
//! joined with their adjacency, and EVPN VNIs (zebra's view joined with bgpd's).
//!
//! bgpd is required: when its command fails, the whole collection fails. ospfd, and EVPN (not
//! configured, or zebra/bgpd answering nothing), are optional: a failing or non-JSON answer,
//! such as vtysh's "ospfd is not running" (on stderr, exit status 1), gives no rows of that kind.
//! Values that change at every poll (countdown timers, up times) never go into rows.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde_json::Value as Json;
use sonde_schema::TableDef;
use sonde_schema::families::{bgp, evpn, ospf};
use sonde_schema::row::{Row, time};
use tracing::debug;

use super::command::Tool;
use crate::error::Result;

/// Tables this collector fills.
pub const TABLES: &[&TableDef] = &[&bgp::TABLE, &ospf::TABLE, &evpn::TABLE];

const BGP_NEIGHBORS: &str = "show bgp vrf all neighbors json";
const OSPF_INTERFACES: &str = "show ip ospf vrf all interface json";
const OSPF_NEIGHBORS: &str = "show ip ospf vrf all neighbor json";
const EVPN_VNIS: &str = "show evpn vni detail json";
const BGP_EVPN_VNIS: &str = "show bgp l2vpn evpn vni json";

/// How long after a session came up its row is stamped with the time it came up rather than
/// the time it was polled: longer than a resync interval, so the transition gets the exact time.
const ESTABLISHED_RECENTLY_US: i64 = 60_000_000;

/// Every BGP session, OSPF interface and EVPN VNI, as FRR sees them at `now` (µs). Fails only
/// when bgpd does not answer.
pub async fn collect(vtysh: &Tool, now: i64) -> Result<Vec<Row>> {
    let (neighbors, interfaces, adjacencies, vnis, bgp_vnis) = tokio::join!(
        vtysh.json(&["-c", BGP_NEIGHBORS]),
        optional(vtysh, OSPF_INTERFACES),
        optional(vtysh, OSPF_NEIGHBORS),
        optional(vtysh, EVPN_VNIS),
        optional(vtysh, BGP_EVPN_VNIS),
    );
    let mut rows = bgp_rows(&neighbors?, now);
    rows.extend(ospf_rows(&interfaces, &adjacencies, now));
    rows.extend(evpn_rows(&vnis, &bgp_vnis, now));
    Ok(rows)
}

/// The JSON answer of a command whose daemon may be absent; `Null` when it fails.
async fn optional(vtysh: &Tool, command: &str) -> Json {
    match vtysh.output(&["-c", command]).await {
        Ok(text) => parse_optional(&text),
        Err(e) => {
            debug!(error = %e, "no answer to `{command}`; no rows from it");
            Json::Null
        }
    }
}

/// Output as JSON; `Null` when it is not JSON (empty, or a message such as "ospfd is not
/// running").
fn parse_optional(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

/// Rows from `show bgp vrf all neighbors json`: `{vrf: {peer: {...}, "vrfName": …}}`.
pub fn bgp_rows(neighbors: &Json, now: i64) -> Vec<Row> {
    let Some(vrfs) = neighbors.as_object() else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (vrf, peers) in vrfs {
        let Some(peers) = peers.as_object() else {
            continue;
        };
        for (peer, session) in peers {
            if session.is_object() && session.get("bgpState").is_some() {
                rows.push(session_row(vrf, peer, session, now));
            }
        }
    }
    rows
}

fn session_row(vrf: &str, peer: &str, s: &Json, now: i64) -> Row {
    let state = text(s, "bgpState");
    let established = state.as_deref() == Some("Established");
    let established_at = established
        .then(|| s.get("bgpTimerUpEstablishedEpoch").and_then(Json::as_i64))
        .flatten()
        .filter(|&epoch| epoch > 0)
        .map(|epoch| epoch * 1_000_000);
    let row_time = match established_at {
        Some(at) if now - at < ESTABLISHED_RECENTLY_US && at <= now => at,
        _ => now,
    };
    let families = s.get("addressFamilyInfo").and_then(Json::as_object);
    let accepted = |family: &str| {
        families
            .and_then(|f| f.get(family))
            .and_then(|f| f.get("acceptedPrefixCounter"))
            .and_then(Json::as_u64)
    };
    let ifname = if peer.parse::<std::net::IpAddr>().is_err() {
        Some(peer.to_string())
    } else {
        text(s, "nbrInterface").or_else(|| text(s, "interface"))
    };
    Row::new(&bgp::TABLE, row_time)
        .set("vrf", vrf)
        .set("peer", peer)
        .set("peer_hostname", text(s, "hostname"))
        .set("ifname", ifname)
        .set("asn", number(s, "localAs"))
        .set("peer_asn", number(s, "remoteAs"))
        .set("router_id", text(s, "localRouterId"))
        .set("peer_router_id", text(s, "remoteRouterId"))
        .set("state", state)
        .set("hold_time", seconds(s, "bgpTimerHoldTimeMsecs"))
        .set("keepalive", seconds(s, "bgpTimerKeepAliveIntervalMsecs"))
        .set(
            "config_hold_time",
            seconds(s, "bgpTimerConfiguredHoldTimeMsecs"),
        )
        .set(
            "config_keepalive",
            seconds(s, "bgpTimerConfiguredKeepAliveIntervalMsecs"),
        )
        .set(
            "afi_safi",
            families.map(|f| f.keys().cloned().collect::<Vec<_>>().join(",")),
        )
        .set("pfx_rx_ipv4", accepted("ipv4Unicast"))
        .set("pfx_rx_ipv6", accepted("ipv6Unicast"))
        .set("pfx_rx_evpn", accepted("l2VpnEvpn"))
        .set("established_at", established_at.map(time))
        .set("last_reset_reason", text(s, "lastResetDueTo"))
        .set("last_notification", text(s, "lastNotificationReason"))
}

/// Rows from `show ip ospf vrf all interface json` (`{vrf: {"interfaces": {ifname: {...}}}}`),
/// one per OSPF interface, joined with its neighbour from `show ip ospf vrf all neighbor json`
/// (`{vrf: {"neighbors": {router_id: [{"ifaceName": "swp1:10.9.0.0", ...}]}}}`).
pub fn ospf_rows(interfaces: &Json, neighbors: &Json, now: i64) -> Vec<Row> {
    let Some(vrfs) = interfaces.as_object() else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (vrf, instance) in vrfs {
        let Some(ifaces) = instance.get("interfaces").and_then(Json::as_object) else {
            continue;
        };
        let adjacencies = ospf_neighbors(neighbors.get(vrf));
        for (ifname, iface) in ifaces {
            if iface.is_object() && iface.get("ospfEnabled") != Some(&Json::Bool(false)) {
                let neighbor = adjacencies.get(ifname.as_str()).copied();
                rows.push(ospf_row(vrf, ifname, iface, neighbor, now));
            }
        }
    }
    rows
}

/// A VRF's neighbours by interface name, as (router id, neighbour): a full adjacency first.
fn ospf_neighbors(vrf: Option<&Json>) -> BTreeMap<&str, (&str, &Json)> {
    let mut found: BTreeMap<&str, (&str, &Json)> = BTreeMap::new();
    let Some(neighbors) = vrf
        .and_then(|v| v.get("neighbors"))
        .and_then(Json::as_object)
    else {
        return found;
    };
    for (router_id, entries) in neighbors {
        for entry in entries.as_array().into_iter().flatten() {
            let Some(iface) = entry.get("ifaceName").and_then(Json::as_str) else {
                continue;
            };
            let ifname = iface.split(':').next().unwrap_or(iface);
            let full = adjacency_state(entry).as_deref() == Some("full");
            let known_full = found
                .get(ifname)
                .is_some_and(|(_, n)| adjacency_state(n).as_deref() == Some("full"));
            if !known_full && (full || !found.contains_key(ifname)) {
                found.insert(ifname, (router_id.as_str(), entry));
            }
        }
    }
    found
}

fn ospf_row(
    vrf: &str,
    ifname: &str,
    iface: &Json,
    neighbor: Option<(&str, &Json)>,
    now: i64,
) -> Row {
    let network_type = text(iface, "networkType").map(|t| network_type(&t));
    let passive = iface.get("timerPassiveIface").and_then(Json::as_bool) == Some(true);
    let state = match neighbor {
        Some((_, n)) => adjacency_state(n),
        None if passive || network_type.as_deref() == Some("loopback") => None,
        None => Some("down".to_string()),
    };
    let subnet = text(iface, "ipAddress").and_then(|address| {
        iface
            .get("ipAddressPrefixlen")
            .and_then(Json::as_u64)
            .and_then(|len| subnet(&address, len))
    });
    let peer = neighbor.map(|(_, n)| n);
    Row::new(&ospf::TABLE, now)
        .set("vrf", vrf)
        .set("ifname", ifname)
        .set("area", text(iface, "area"))
        .set("router_id", text(iface, "routerId"))
        .set("peer_router_id", neighbor.map(|(id, _)| id.to_string()))
        .set(
            "peer_ip",
            peer.and_then(|n| text(n, "ifaceAddress").or_else(|| text(n, "address"))),
        )
        .set("state", state)
        .set("network_type", network_type)
        .set("hello_time", seconds(iface, "timerMsecs"))
        .set("dead_time", number(iface, "timerDeadSecs"))
        .set("mtu", number(iface, "mtuBytes"))
        .set("cost", number(iface, "cost"))
        .set("is_passive", passive)
        .set("subnet", subnet)
        .set(
            "last_change",
            peer.and_then(|n| adjacency_since(n, now)).map(time),
        )
}

/// "Full/-", "2-Way/DROther" → "full", "2way".
fn adjacency_state(neighbor: &Json) -> Option<String> {
    let state = text(neighbor, "nbrState").or_else(|| text(neighbor, "state"))?;
    let name = state.split('/').next().unwrap_or(&state);
    Some(name.to_lowercase().replace('-', ""))
}

/// When the adjacency came up, from its up time in ms; whole seconds, so that the few ms
/// between `now` and FRR's answer do not change the value at every poll.
fn adjacency_since(neighbor: &Json, now: i64) -> Option<i64> {
    let up_ms = neighbor.get("upTimeInMsec").and_then(Json::as_i64)?;
    let since = now.checked_sub(up_ms.checked_mul(1000)?)?;
    Some(since.div_euclid(1_000_000) * 1_000_000)
}

/// FRR's "POINTOPOINT", "BROADCAST", … → "p2p", "broadcast", ….
fn network_type(frr: &str) -> String {
    match frr {
        "POINTOPOINT" => "p2p".into(),
        "POINTOMULTIPOINT" => "p2mp".into(),
        "VIRTUALLINK" => "virtual-link".into(),
        other => other.to_lowercase(),
    }
}

/// The network of an IPv4 address and prefix length: ("10.9.0.1", 31) → "10.9.0.0/31".
fn subnet(address: &str, len: u64) -> Option<String> {
    let ip: Ipv4Addr = address.parse().ok()?;
    let len = u32::try_from(len).ok().filter(|&l| l <= 32)?;
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    Some(format!("{}/{len}", Ipv4Addr::from(u32::from(ip) & mask)))
}

/// Rows from zebra's `show evpn vni detail json` (an array of VNIs) joined by VNI with bgpd's
/// `show bgp l2vpn evpn vni json` (`{"<vni>": {...}, "numVnis": …}`); either may be `Null`.
pub fn evpn_rows(zebra: &Json, bgp: &Json, now: i64) -> Vec<Row> {
    let mut vnis: BTreeMap<u32, (Option<&Json>, Option<&Json>)> = BTreeMap::new();
    for vni in zebra.as_array().into_iter().flatten() {
        if let Some(id) = number(vni, "vni") {
            vnis.entry(id).or_default().0 = Some(vni);
        }
    }
    for vni in bgp.as_object().into_iter().flat_map(|m| m.values()) {
        if let Some(id) = number(vni, "vni") {
            vnis.entry(id).or_default().1 = Some(vni);
        }
    }
    vnis.into_iter()
        .map(|(id, (zebra, bgp))| evpn_row(id, zebra, bgp, now))
        .collect()
}

fn evpn_row(vni: u32, zebra: Option<&Json>, bgp: Option<&Json>, now: i64) -> Row {
    let z = |key: &str| zebra.and_then(|j| text(j, key));
    let b = |key: &str| bgp.and_then(|j| text(j, key));
    let state = z("state")
        .map(|s| s.to_lowercase())
        .or_else(|| b("inKernel").map(|k| if k == "True" { "up" } else { "down" }.to_string()));
    let targets = |key: &str| {
        bgp.and_then(|j| j.get(key))
            .map(strings)
            .map(|t| t.join(","))
    };
    Row::new(&evpn::TABLE, now)
        .set("vni", vni)
        .set("type", z("type").or_else(|| b("type")))
        .set("vrf", z("vrf").or_else(|| b("tenantVrf")))
        .set("vlan", zebra.and_then(|j| number(j, "vlan")))
        .set("state", state)
        .set("rd", b("rd"))
        .set("rt_import", targets("importRTs"))
        .set("rt_export", targets("exportRTs"))
        .set(
            "origin_ip",
            b("originatorIp")
                .or_else(|| z("vtepIp"))
                .or_else(|| z("localVtepIp")),
        )
        .set("remote_vteps", zebra.and_then(remote_vteps))
        .set(
            "macs",
            zebra.and_then(|j| j.get("numMacs")).and_then(Json::as_u64),
        )
}

/// An L2 VNI's remote VTEPs: FRR 8.4 lists them under "numRemoteVteps" (addresses), others under
/// "remoteVteps" (addresses or `{"ip": …}`); `None` for an L3 VNI, which has neither.
fn remote_vteps(vni: &Json) -> Option<Vec<String>> {
    if text(vni, "type").as_deref() == Some("L3") {
        return None;
    }
    let list = vni
        .get("remoteVteps")
        .or_else(|| vni.get("numRemoteVteps"))
        .filter(|l| l.is_array());
    Some(list.map(strings).unwrap_or_default())
}

/// The strings of a JSON array, or of its objects' "ip".
fn strings(list: &Json) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().or_else(|| item.get("ip")?.as_str()))
        .map(str::to_string)
        .collect()
}

fn text(json: &Json, key: &str) -> Option<String> {
    json.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn number(json: &Json, key: &str) -> Option<u32> {
    json.get(key)
        .and_then(Json::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

fn seconds(json: &Json, key: &str) -> Option<u32> {
    json.get(key)
        .and_then(Json::as_u64)
        .and_then(|ms| u32::try_from(ms / 1000).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonde_schema::row::Value;

    #[test]
    fn reads_sessions_of_every_vrf_and_ignores_junk() {
        let json: Json = serde_json::from_str(
            r#"{"default":{"vrfId":0,"vrfName":"default",
                 "swp51":{"remoteAs":65101,"localAs":65011,"hostname":"spine01","remoteRouterId":"10.0.0.21",
                          "localRouterId":"10.0.0.11","bgpState":"Established","bgpTimerUpEstablishedEpoch":1700000000,
                          "bgpTimerHoldTimeMsecs":9000,"bgpTimerKeepAliveIntervalMsecs":3000,
                          "addressFamilyInfo":{"ipv4Unicast":{"acceptedPrefixCounter":5}}},
                 "10.0.0.9":{"remoteAs":65999,"localAs":65011,"bgpState":"Idle",
                          "lastResetDueTo":"No AFI/SAFI activated for peer","lastNotificationReason":"OPEN Message Error/Bad Peer AS"}},
                "junk":[1,2]}"#,
        )
        .expect("json");
        let rows = bgp_rows(&json, 1_800_000_000_000_000);
        assert_eq!(rows.len(), 2);
        let up = rows
            .iter()
            .find(|r| r.get("peer") == Some(&Value::from("swp51")))
            .expect("swp51");
        assert_eq!(up.get("ifname"), Some(&Value::from("swp51")));
        assert_eq!(up.get("hold_time"), Some(&Value::U32(9)));
        assert_eq!(
            up.get("established_at"),
            Some(&Value::Time(1_700_000_000_000_000))
        );
        assert_eq!(
            up.time, 1_800_000_000_000_000,
            "an old session is stamped when polled"
        );
        let idle = rows
            .iter()
            .find(|r| r.get("peer") == Some(&Value::from("10.0.0.9")))
            .expect("idle");
        assert_eq!(idle.get("ifname"), Some(&Value::Null));
        assert_eq!(
            idle.get("last_notification"),
            Some(&Value::from("OPEN Message Error/Bad Peer AS"))
        );
    }
}

#[cfg(test)]
mod fixture_tests {
    //! Against real FRR 8.4.4 output (testdata/): two namespaces with a point-to-point OSPF
    //! link (10.9.0.0/31, MTU 9000) and an L2 VNI 100 plus an L3 VNI 4001 (no VRF device).
    use super::*;
    use sonde_schema::row::Value;

    const NOW: i64 = 1_800_000_000_123_456;

    fn fixture(text: &str) -> Json {
        serde_json::from_str(text).expect("fixture is JSON")
    }

    fn find<'a>(rows: &'a [Row], column: &str, value: Value) -> &'a Row {
        rows.iter()
            .find(|r| r.get(column) == Some(&value))
            .expect("row")
    }

    #[test]
    fn ospf_interface_joined_with_its_full_neighbour() {
        let rows = ospf_rows(
            &fixture(include_str!("testdata/ospf_interface.json")),
            &fixture(include_str!("testdata/ospf_neighbor.json")),
            NOW,
        );
        assert_eq!(rows.len(), 2, "swp1 and lo");
        let swp1 = find(&rows, "ifname", Value::from("swp1"));
        let expect = [
            ("vrf", Value::from("default")),
            ("area", Value::from("0.0.0.0")),
            ("router_id", Value::from("10.0.9.1")),
            ("peer_router_id", Value::from("10.0.9.2")),
            ("peer_ip", Value::from("10.9.0.1")),
            ("peer_hostname", Value::Null),
            ("state", Value::from("full")),
            ("network_type", Value::from("p2p")),
            ("hello_time", Value::U32(10)),
            ("dead_time", Value::U32(40)),
            ("mtu", Value::U32(9000)),
            ("cost", Value::U32(10)),
            ("is_passive", Value::Bool(false)),
            ("subnet", Value::from("10.9.0.0/31")),
        ];
        for (column, value) in expect {
            assert_eq!(swp1.get(column), Some(&value), "{column}");
        }
        // upTimeInMsec 48140 before NOW, in whole seconds.
        assert_eq!(
            swp1.get("last_change"),
            Some(&Value::Time(1_799_999_951_000_000))
        );
        assert_eq!(swp1.time, NOW);
        let lo = find(&rows, "ifname", Value::from("lo"));
        assert_eq!(lo.get("is_passive"), Some(&Value::Bool(true)));
        assert_eq!(lo.get("network_type"), Some(&Value::from("loopback")));
        assert_eq!(lo.get("state"), Some(&Value::Null));
        assert_eq!(lo.get("peer_router_id"), Some(&Value::Null));
        assert_eq!(lo.get("subnet"), Some(&Value::from("10.0.9.1/32")));
    }

    #[test]
    fn ospf_rows_do_not_change_between_polls() {
        let interfaces = fixture(include_str!("testdata/ospf_interface.json"));
        let mut neighbors = fixture(include_str!("testdata/ospf_neighbor.json"));
        let first = ospf_rows(&interfaces, &neighbors, NOW);
        // Ten seconds later: the up time and every countdown moved on by as much.
        let entry = &mut neighbors["default"]["neighbors"]["10.0.9.2"][0];
        entry["upTimeInMsec"] = Json::from(58_140);
        entry["deadTimeMsecs"] = Json::from(31_000);
        let later = ospf_rows(&interfaces, &neighbors, NOW + 10_000_000);
        let values = |rows: &[Row]| rows.iter().map(|r| r.values.clone()).collect::<Vec<_>>();
        assert_eq!(values(&first), values(&later));
    }

    #[test]
    fn ospf_link_down_leaves_only_the_loopback() {
        let rows = ospf_rows(
            &fixture(include_str!("testdata/ospf_interface_down.json")),
            &fixture(include_str!("testdata/ospf_neighbor_down.json")),
            NOW,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("ifname"), Some(&Value::from("lo")));
    }

    #[test]
    fn ospf_interface_without_neighbour_is_down() {
        let interfaces = fixture(include_str!("testdata/ospf_interface.json"));
        let rows = ospf_rows(&interfaces, &Json::Null, NOW);
        let swp1 = find(&rows, "ifname", Value::from("swp1"));
        assert_eq!(swp1.get("state"), Some(&Value::from("down")));
        assert_eq!(swp1.get("last_change"), Some(&Value::Null));
    }

    #[test]
    fn ospfd_not_running_gives_no_rows() {
        let message = include_str!("testdata/ospf_not_running.txt");
        assert_eq!(message.trim(), "ospfd is not running");
        let answer = parse_optional(message);
        assert_eq!(answer, Json::Null);
        assert!(ospf_rows(&answer, &answer, NOW).is_empty());
        // zebra with no VNI answers `show evpn vni detail json` with nothing at all.
        let none = parse_optional("");
        assert!(evpn_rows(&none, &none, NOW).is_empty());
    }

    #[test]
    fn adjacency_states_are_short_and_lowercase() {
        for (frr, ours) in [
            ("Full/-", "full"),
            ("Full/DR", "full"),
            ("2-Way/DROther", "2way"),
            ("Init/-", "init"),
            ("ExStart/-", "exstart"),
            ("Down", "down"),
        ] {
            let neighbor = serde_json::json!({ "nbrState": frr });
            assert_eq!(adjacency_state(&neighbor).as_deref(), Some(ours));
        }
    }

    #[test]
    fn evpn_vnis_from_zebra_and_bgp() {
        let rows = evpn_rows(
            &fixture(include_str!("testdata/evpn_vni_detail.json")),
            &fixture(include_str!("testdata/bgp_evpn_vni.json")),
            NOW,
        );
        assert_eq!(rows.len(), 2);
        let l2 = find(&rows, "vni", Value::U32(100));
        let expect = [
            ("type", Value::from("L2")),
            ("vrf", Value::from("default")),
            ("vlan", Value::Null),
            ("state", Value::from("up")),
            ("rd", Value::from("10.0.9.1:2")),
            ("rt_import", Value::from("65001:100")),
            ("rt_export", Value::from("65001:100")),
            ("origin_ip", Value::from("10.0.9.1")),
            ("remote_vteps", Value::StrList(vec!["10.0.9.2".into()])),
            ("macs", Value::U64(0)),
        ];
        for (column, value) in expect {
            assert_eq!(l2.get(column), Some(&value), "{column}");
        }
        let l3 = find(&rows, "vni", Value::U32(4001));
        assert_eq!(l3.get("type"), Some(&Value::from("L3")));
        assert_eq!(l3.get("state"), Some(&Value::from("down")));
        assert_eq!(l3.get("origin_ip"), Some(&Value::from("10.0.9.1")));
        assert_eq!(l3.get("remote_vteps"), Some(&Value::Null));
        assert_eq!(l3.get("rd"), Some(&Value::Null));
    }

    #[test]
    fn evpn_from_bgp_alone() {
        let bgp = fixture(include_str!("testdata/bgp_evpn_vni.json"));
        let rows = evpn_rows(&Json::Null, &bgp, NOW);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("rd"), Some(&Value::from("10.0.9.1:2")));
        assert_eq!(rows[0].get("remote_vteps"), Some(&Value::Null));
    }

    #[test]
    fn subnets() {
        assert_eq!(subnet("10.9.0.1", 31).as_deref(), Some("10.9.0.0/31"));
        assert_eq!(
            subnet("192.168.1.77", 24).as_deref(),
            Some("192.168.1.0/24")
        );
        assert_eq!(subnet("1.2.3.4", 0).as_deref(), Some("0.0.0.0/0"));
        assert_eq!(subnet("1.2.3.4", 33), None);
        assert_eq!(subnet("fe80::1", 64), None);
    }
}
