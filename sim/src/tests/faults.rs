//! Every fault of the families' timeline reaches the agents' rows while it lasts, and is gone
//! once it is set right.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, UInt32Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::history;
use crate::fabric::{HOUR, MINUTE};
use crate::timeline::{Fault, reference_faults};
use crate::{REFERENCE_NOW, Simulation, Topology};

type History = Vec<(&'static str, RecordBatch)>;

fn reference() -> &'static History {
    static HISTORY: OnceLock<History> = OnceLock::new();
    HISTORY.get_or_init(|| history(Simulation::reference(REFERENCE_NOW), REFERENCE_NOW, HOUR))
}

fn ago(hours: i64, minutes: i64) -> i64 {
    REFERENCE_NOW - (hours * HOUR + minutes * MINUTE)
}

/// A cell as text: lists joined with commas, null as `null`.
fn cell(array: &dyn Array, i: usize) -> String {
    if array.is_null(i) {
        return "null".into();
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(i).to_string(),
        DataType::Boolean => array.as_boolean().value(i).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).to_string(),
        DataType::Timestamp(..) => array
            .as_primitive::<TimestampMicrosecondType>()
            .value(i)
            .to_string(),
        DataType::List(_) => {
            let list = array.as_list::<i32>().value(i);
            let items = list.as_string::<i32>();
            let items: Vec<&str> = (0..items.len()).map(|j| items.value(j)).collect();
            items.join(",")
        }
        other => format!("{other:?}"),
    }
}

/// Each object's newest row at `at` (deleted objects left out), as its cells by column name,
/// keyed by table, host and key cells; of one table, or of all.
fn state_at(
    history: &History,
    at: i64,
    only: Option<&str>,
) -> BTreeMap<Vec<String>, BTreeMap<String, String>> {
    let mut newest: BTreeMap<Vec<String>, (i64, bool, BTreeMap<String, String>)> = BTreeMap::new();
    let tables = history
        .iter()
        .filter(|(table, _)| only.is_none_or(|only| only == *table));
    for (table, batch) in tables {
        let def = sonde_schema::table(table).expect("a table of the schema");
        let schema = batch.schema();
        let times = batch.column_by_name("timestamp").expect("timestamp");
        let times = times.as_primitive::<TimestampMicrosecondType>();
        let active = batch.column_by_name("active").expect("active").as_boolean();
        for i in (0..batch.num_rows()).filter(|&i| times.value(i) <= at) {
            let cells: BTreeMap<String, String> = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(f, c)| (f.name().clone(), cell(c, i)))
                .collect();
            let mut key = vec![table.to_string(), cells["hostname"].clone()];
            key.extend(def.keys.iter().map(|k| cells[k.name].clone()));
            let t = times.value(i);
            if newest.get(&key).is_none_or(|(seen, ..)| *seen <= t) {
                newest.insert(key, (t, active.value(i), cells));
            }
        }
    }
    newest
        .into_iter()
        .filter(|(_, (_, active, _))| *active)
        .map(|(key, (_, _, cells))| (key, cells))
        .collect()
}

/// `column` of the object (`table`, `host`, key cells) at `at` in the reference history.
fn value(table: &str, host: &str, key: &[&str], column: &str, at: i64) -> Option<String> {
    let mut wanted = vec![table.to_string(), host.to_string()];
    wanted.extend(key.iter().map(|k| k.to_string()));
    state_at(reference(), at, Some(table))
        .get(&wanted)
        .map(|cells| cells[column].clone())
}

/// `column` of the object is `during` half an hour after its fault struck at `struck` and
/// `after` once it is set right an hour after that.
fn faulted(
    (table, host, key): (&str, &str, &[&str]),
    column: &str,
    struck: i64,
    during: &str,
    after: &str,
) {
    let state = |at| value(table, host, key, column, at);
    assert_eq!(
        state(struck + 30 * MINUTE).as_deref(),
        Some(during),
        "{table} {host} {key:?} {column} during the fault"
    );
    assert_eq!(
        state(struck + HOUR + MINUTE).as_deref(),
        Some(after),
        "{table} {host} {key:?} {column} after the fault"
    );
}

const OSPF: &str = "ospf";

#[test]
fn ospf_runs_between_the_exits_and_edge01() {
    let at = ago(12, 0);
    for (host, ifname, peer) in [
        ("exit01", "swp1", "10.0.0.51"),
        ("exit02", "swp1", "10.0.0.51"),
        ("edge01", "eth1", "10.0.0.41"),
        ("edge01", "eth2", "10.0.0.42"),
    ] {
        let key = ["default", ifname];
        assert_eq!(
            value(OSPF, host, &key, "state", at).as_deref(),
            Some("full")
        );
        assert_eq!(
            value(OSPF, host, &key, "peer_router_id", at).as_deref(),
            Some(peer)
        );
        assert_eq!(
            value(OSPF, host, &key, "peer_hostname", at).as_deref(),
            Some("null")
        );
    }
    let lo = ["default", "lo"];
    assert_eq!(
        value(OSPF, "exit01", &lo, "is_passive", at).as_deref(),
        Some("true")
    );
    let address = ["swp1", "10.9.1.0/31"];
    assert!(value("addresses", "exit01", &address, "family", at).is_some());
}

#[test]
fn ospf_area_mismatch() {
    let eth2 = (OSPF, "edge01", &["default", "eth2"][..]);
    faulted(eth2, "area", ago(40, 30), "0.0.0.1", "0.0.0.0");
    faulted(eth2, "state", ago(40, 30), "down", "full");
    let far = (OSPF, "exit02", &["default", "swp1"][..]);
    faulted(far, "state", ago(40, 30), "down", "full");
    faulted(far, "peer_router_id", ago(40, 30), "null", "10.0.0.51");
}

#[test]
fn ospf_timer_mismatches() {
    let swp1 = (OSPF, "exit01", &["default", "swp1"][..]);
    faulted(swp1, "hello_time", ago(39, 0), "5", "10");
    faulted(swp1, "dead_time", ago(39, 0), "20", "40");
    let eth1 = (OSPF, "edge01", &["default", "eth1"][..]);
    faulted(eth1, "hello_time", ago(37, 30), "10", "10");
    faulted(eth1, "dead_time", ago(37, 30), "120", "40");
    faulted(swp1, "state", ago(37, 30), "down", "full");
}

#[test]
fn ospf_mtu_mismatch_sticks_in_exstart() {
    let swp1 = (OSPF, "exit02", &["default", "swp1"][..]);
    faulted(swp1, "mtu", ago(36, 0), "1500", "9152");
    faulted(swp1, "state", ago(36, 0), "exstart", "full");
    let port = ("interfaces", "exit02", &["swp1"][..]);
    faulted(port, "mtu", ago(36, 0), "1500", "9152");
    let far = (OSPF, "edge01", &["default", "eth2"][..]);
    faulted(far, "state", ago(36, 0), "exstart", "full");
    faulted(far, "mtu", ago(36, 0), "9152", "9152");
}

#[test]
fn ospf_adjacency_lost() {
    for (host, ifname) in [("exit01", "swp1"), ("edge01", "eth1")] {
        let end = (OSPF, host, &["default", ifname][..]);
        faulted(end, "state", ago(34, 30), "down", "full");
        faulted(end, "area", ago(34, 30), "0.0.0.0", "0.0.0.0");
    }
}

#[test]
fn mlag_peerlink_down() {
    for host in ["leaf03", "leaf04"] {
        for bond in ["peerlink", "bond3", "bond4"] {
            faulted(
                ("clag", host, &[bond]),
                "peer_state",
                ago(33, 0),
                "down",
                "up",
            );
        }
        faulted(
            ("interfaces", host, &["swp49"]),
            "state",
            ago(33, 0),
            "down",
            "up",
        );
        faulted(
            ("interfaces", host, &["swp50"]),
            "master",
            ago(33, 0),
            "peerlink",
            "peerlink",
        );
        faulted(
            ("interfaces", host, &["peerlink"]),
            "state",
            ago(33, 0),
            "down",
            "up",
        );
    }
    faulted(
        ("clag", "leaf04", &["bond3"]),
        "protodown",
        ago(33, 0),
        "true",
        "null",
    );
    faulted(
        ("clag", "leaf03", &["bond3"]),
        "protodown",
        ago(33, 0),
        "null",
        "null",
    );
}

#[test]
fn mlag_singly_attached_bond() {
    faulted(
        ("clag", "leaf02", &["bond2"]),
        "bond_state",
        ago(31, 30),
        "down",
        "dual",
    );
    faulted(
        ("clag", "leaf01", &["bond2"]),
        "bond_state",
        ago(31, 30),
        "single",
        "dual",
    );
    faulted(
        ("clag", "leaf01", &["bond1"]),
        "bond_state",
        ago(31, 30),
        "dual",
        "dual",
    );
    faulted(
        ("interfaces", "leaf02", &["swp2"]),
        "state",
        ago(31, 30),
        "down",
        "up",
    );
    faulted(
        ("interfaces", "leaf02", &["swp2"]),
        "master",
        ago(31, 30),
        "bond2",
        "bond2",
    );
}

#[test]
fn mlag_backup_ip_lost() {
    for host in ["leaf01", "leaf02"] {
        let bond = ("clag", host, &["bond1"][..]);
        faulted(bond, "backup_active", ago(30, 0), "false", "true");
    }
}

#[test]
fn mlag_sysmac_mismatch() {
    let mac = "44:38:39:ff:00:03";
    faulted(
        ("clag", "leaf04", &["bond4"]),
        "sysmac",
        ago(28, 30),
        mac,
        "44:38:39:ff:00:02",
    );
    let peer = ("clag", "leaf03", &["bond4"][..]);
    faulted(
        peer,
        "sysmac",
        ago(28, 30),
        "44:38:39:ff:00:02",
        "44:38:39:ff:00:02",
    );
}

#[test]
fn vni_replication_list_misses_a_vtep() {
    let all = "10.0.0.11,10.0.0.12,10.0.0.14";
    let short = "10.0.0.12,10.0.0.14";
    faulted(
        ("vxlan", "leaf03", &["vni20"]),
        "remote_vteps",
        ago(27, 0),
        short,
        all,
    );
    faulted(
        ("evpn", "leaf03", &["20"]),
        "remote_vteps",
        ago(27, 0),
        short,
        all,
    );
    let vni10 = ("vxlan", "leaf03", &["vni10"][..]);
    faulted(vni10, "remote_vteps", ago(27, 0), all, all);
}

#[test]
fn vni_mapped_to_another_vlan() {
    faulted(
        ("vxlan", "leaf02", &["vni10"]),
        "vlan",
        ago(25, 30),
        "11",
        "10",
    );
    faulted(("evpn", "leaf02", &["10"]), "vlan", ago(25, 30), "11", "10");
    faulted(
        ("vlan", "leaf02", &["10"]),
        "vni",
        ago(25, 30),
        "null",
        "10",
    );
    let vlan11 = |at| value("vlan", "leaf02", &["11"], "vni", at);
    assert_eq!(vlan11(ago(25, 0)).as_deref(), Some("10"));
    assert_eq!(vlan11(ago(24, 0)), None, "VLAN 11 is gone again");
}

#[test]
fn vni_in_another_vrf() {
    faulted(
        ("evpn", "leaf04", &["20"]),
        "vrf",
        ago(24, 0),
        "RED",
        "default",
    );
    faulted(
        ("evpn", "leaf03", &["20"]),
        "vrf",
        ago(24, 0),
        "default",
        "default",
    );
}

#[test]
fn vni_down_leaves_the_other_vteps_lists() {
    faulted(
        ("vxlan", "leaf02", &["vni20"]),
        "state",
        ago(22, 30),
        "down",
        "up",
    );
    faulted(
        ("evpn", "leaf02", &["20"]),
        "state",
        ago(22, 30),
        "down",
        "up",
    );
    let all = "10.0.0.12,10.0.0.13,10.0.0.14";
    let list = ("vxlan", "leaf01", &["vni20"][..]);
    faulted(
        list,
        "remote_vteps",
        ago(22, 30),
        "10.0.0.13,10.0.0.14",
        all,
    );
}

#[test]
fn licence_expires_and_is_renewed() {
    let licence = ("license", "leaf02", &["cumulus"][..]);
    faulted(licence, "state", ago(21, 0), "expired", "ok");
    let expires = |at| value("license", "leaf02", &["cumulus"], "expires_at", at);
    let expiry = ago(21, 0).to_string();
    assert_eq!(
        expires(ago(45, 0)),
        Some(expiry.clone()),
        "known from the first resync"
    );
    assert_eq!(expires(ago(20, 30)), Some(expiry));
    let renewed = expires(ago(19, 0)).and_then(|t| t.parse::<i64>().ok());
    assert!(renewed.is_some_and(|t| t > REFERENCE_NOW), "{renewed:?}");
}

#[test]
fn licence_goes_missing() {
    let licence = ("license", "exit01", &["cumulus"][..]);
    faulted(licence, "state", ago(19, 30), "missing", "ok");
}

#[test]
fn lnv_service_node_and_vxrd_faults_then_retirement() {
    let vtep = |host| ("lnv", host, &["100"][..]);
    faulted(
        vtep("exit01"),
        "service_node",
        ago(18, 0),
        "10.0.0.21",
        "10.0.0.100",
    );
    faulted(
        vtep("exit02"),
        "service_node",
        ago(18, 0),
        "10.0.0.100",
        "10.0.0.100",
    );
    faulted(vtep("exit02"), "state", ago(16, 30), "down", "up");
    faulted(
        vtep("spine01"),
        "role",
        ago(16, 30),
        "service-node",
        "service-node",
    );
    let device = |at| value("vxlan", "exit01", &["vni100"], "replication", at);
    assert_eq!(device(ago(15, 1)).as_deref(), Some("ingress"));
    assert_eq!(device(ago(15, 0)), None, "retired");
    assert_eq!(value("lnv", "spine02", &["100"], "state", ago(15, 0)), None);
}

/// The reference timeline without the families' faults (the LNV domain still retired).
fn seed_faults_only(t: &Topology) -> Vec<Fault> {
    reference_faults(t, REFERENCE_NOW)
        .into_iter()
        .filter(|f| {
            !matches!(
                f,
                Fault::Ospf { .. }
                    | Fault::Mlag { .. }
                    | Fault::Vni { .. }
                    | Fault::Lnv { .. }
                    | Fault::LicenseExpires { .. }
                    | Fault::LicenseMissing { .. }
            )
        })
        .collect()
}

#[test]
fn the_families_faults_are_over_before_the_seeds_begin() {
    let full = Simulation::reference(REFERENCE_NOW);
    let topology = full.topology().clone();
    let start = full.start();
    let faults = seed_faults_only(&topology);
    let established = crate::timeline::sessions_up(REFERENCE_NOW);
    let seed = Simulation::new(topology, start, established, &faults);
    let seed = history(seed, REFERENCE_NOW, HOUR);
    // When an object last changed, and the renewed licence's expiry, may differ; the change
    // log holds the faults' events.
    let volatile = ["timestamp", "last_flap", "last_change", "expires_at"];
    let comparable = |history: &History, at| {
        let mut state = state_at(history, at, None);
        state.retain(|key, _| key[0] != "events");
        for cells in state.values_mut() {
            cells.retain(|column, _| !volatile.contains(&column.as_str()));
        }
        state
    };
    for at in [ago(14, 0), ago(10, 0), ago(6, 0), ago(3, 0), REFERENCE_NOW] {
        let (full, seed) = (comparable(reference(), at), comparable(&seed, at));
        let differ: Vec<_> = full
            .iter()
            .filter(|(key, cells)| seed.get(*key) != Some(cells))
            .map(|(key, _)| key)
            .chain(seed.keys().filter(|key| !full.contains_key(*key)))
            .collect();
        let hours = (REFERENCE_NOW - at) / HOUR;
        assert!(differ.is_empty(), "the state {hours}h ago: {differ:?}");
    }
}
