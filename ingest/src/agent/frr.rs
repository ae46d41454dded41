//! FRR through `vtysh -c '… json'`: BGP sessions of every VRF.

use serde_json::Value as Json;
use sonde_schema::TableDef;
use sonde_schema::families::bgp;

use super::command::Tool;
use super::row::{Row, time};
use crate::error::Result;

/// Tables this collector fills.
pub const TABLES: &[&TableDef] = &[&bgp::TABLE];

/// How long after a session came up its row is stamped with the time it came up rather than
/// the time it was polled: longer than a resync interval, so the transition gets the exact time.
const ESTABLISHED_RECENTLY_US: i64 = 60_000_000;

/// Every BGP session of every VRF, as FRR sees it at `now` (µs).
pub async fn collect(vtysh: &Tool, now: i64) -> Result<Vec<Row>> {
    let neighbors = vtysh
        .json(&["-c", "show bgp vrf all neighbors json"])
        .await?;
    Ok(bgp_rows(&neighbors, now))
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
    use crate::agent::row::Value;

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
