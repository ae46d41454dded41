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

/// Each case, `table host key,… column: during -> after`, says that the column of the object
/// is `during` half an hour after the fault struck at `struck`, and `after` once it is set
/// right an hour after that (`-` for no such object).
fn faulted(struck: i64, cases: &[&str]) {
    for case in cases {
        let words: Vec<&str> = case.split_whitespace().collect();
        let [table, host, key, column, during, "->", after] = words[..] else {
            panic!("a case reads `table host key column: during -> after`: {case}");
        };
        let key: Vec<&str> = key.split(',').collect();
        let column = column.trim_end_matches(':');
        let state = |at| value(table, host, &key, column, at).unwrap_or_else(|| "-".into());
        assert_eq!(
            state(struck + 30 * MINUTE),
            during,
            "during the fault: {case}"
        );
        assert_eq!(
            state(struck + HOUR + MINUTE),
            after,
            "after the fault: {case}"
        );
    }
}

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
        let ospf = |column| value("ospf", host, &key, column, at);
        assert_eq!(ospf("state").as_deref(), Some("full"));
        assert_eq!(ospf("peer_router_id").as_deref(), Some(peer));
        assert_eq!(ospf("peer_hostname").as_deref(), Some("null"));
    }
    let lo = value("ospf", "exit01", &["default", "lo"], "is_passive", at);
    assert_eq!(lo.as_deref(), Some("true"));
    let address = ["swp1", "10.9.1.0/31"];
    assert!(value("addresses", "exit01", &address, "family", at).is_some());
}

#[test]
fn ospf_area_mismatch() {
    faulted(
        ago(40, 30),
        &[
            "ospf edge01 default,eth2 area: 0.0.0.1 -> 0.0.0.0",
            "ospf edge01 default,eth2 state: down -> full",
            "ospf exit02 default,swp1 state: down -> full",
            "ospf exit02 default,swp1 peer_router_id: null -> 10.0.0.51",
        ],
    );
}

#[test]
fn ospf_timer_mismatches() {
    faulted(
        ago(39, 0),
        &[
            "ospf exit01 default,swp1 hello_time: 5 -> 10",
            "ospf exit01 default,swp1 dead_time: 20 -> 40",
            "ospf edge01 default,eth1 state: down -> full",
        ],
    );
    faulted(
        ago(37, 30),
        &[
            "ospf edge01 default,eth1 hello_time: 10 -> 10",
            "ospf edge01 default,eth1 dead_time: 120 -> 40",
            "ospf exit01 default,swp1 state: down -> full",
        ],
    );
}

#[test]
fn ospf_mtu_mismatch_sticks_in_exstart() {
    faulted(
        ago(36, 0),
        &[
            "ospf edge01 default,eth1 mtu: 1500 -> 9152",
            "ospf edge01 default,eth1 state: exstart -> full",
            "interfaces edge01 eth1 mtu: 1500 -> 9152",
            "ospf exit01 default,swp1 mtu: 9152 -> 9152",
            "ospf exit01 default,swp1 state: exstart -> full",
        ],
    );
}

#[test]
fn ospf_adjacency_lost() {
    faulted(
        ago(34, 30),
        &[
            "ospf exit01 default,swp1 state: down -> full",
            "ospf exit01 default,swp1 area: 0.0.0.0 -> 0.0.0.0",
            "ospf edge01 default,eth1 state: down -> full",
            "ospf edge01 default,eth1 peer_ip: null -> 10.9.1.0",
        ],
    );
}

#[test]
fn mlag_peerlink_down() {
    faulted(
        ago(33, 0),
        &[
            "clag leaf01 peerlink peer_state: down -> up",
            "clag leaf01 bond1 peer_state: down -> up",
            "clag leaf02 bond2 peer_state: down -> up",
            "clag leaf02 bond1 protodown: true -> null",
            "clag leaf01 bond1 protodown: null -> null",
            "interfaces leaf01 swp49 state: down -> up",
            "interfaces leaf02 swp50 state: down -> up",
            "interfaces leaf02 swp50 master: peerlink -> peerlink",
            "interfaces leaf02 peerlink state: down -> up",
        ],
    );
}

#[test]
fn mlag_singly_attached_bond() {
    faulted(
        ago(31, 30),
        &[
            "clag leaf02 bond2 bond_state: down -> dual",
            "clag leaf01 bond2 bond_state: single -> dual",
            "clag leaf01 bond1 bond_state: dual -> dual",
            "interfaces leaf02 swp2 state: down -> up",
            "interfaces leaf02 swp2 master: bond2 -> bond2",
            "interfaces leaf02 bond2 state: down -> up",
        ],
    );
}

#[test]
fn mlag_backup_ip_lost() {
    faulted(
        ago(30, 0),
        &[
            "clag leaf03 bond3 backup_active: false -> true",
            "clag leaf04 peerlink backup_active: false -> true",
        ],
    );
}

#[test]
fn mlag_sysmac_mismatch() {
    faulted(
        ago(28, 30),
        &[
            "clag leaf04 bond4 sysmac: 44:38:39:ff:00:03 -> 44:38:39:ff:00:02",
            "clag leaf03 bond4 sysmac: 44:38:39:ff:00:02 -> 44:38:39:ff:00:02",
        ],
    );
}

#[test]
fn vni_replication_list_misses_a_vtep() {
    faulted(
        ago(27, 0),
        &[
            "vxlan leaf03 vni20 remote_vteps: 10.0.0.12,10.0.0.14 -> 10.0.0.11,10.0.0.12,10.0.0.14",
            "evpn leaf03 20 remote_vteps: 10.0.0.12,10.0.0.14 -> 10.0.0.11,10.0.0.12,10.0.0.14",
            "vxlan leaf03 vni10 remote_vteps: 10.0.0.11,10.0.0.12,10.0.0.14 -> 10.0.0.11,10.0.0.12,10.0.0.14",
        ],
    );
}

#[test]
fn vni_mapped_to_another_vlan() {
    faulted(
        ago(25, 30),
        &[
            "vxlan leaf02 vni10 vlan: 11 -> 10",
            "evpn leaf02 10 vlan: 11 -> 10",
            "vlan leaf02 10 vni: null -> 10",
            "vlan leaf02 11 vni: 10 -> -",
        ],
    );
}

#[test]
fn vni_in_another_vrf() {
    faulted(
        ago(24, 0),
        &[
            "evpn leaf04 20 vrf: RED -> default",
            "evpn leaf03 20 vrf: default -> default",
        ],
    );
}

#[test]
fn vni_down_leaves_the_other_vteps_lists() {
    faulted(
        ago(22, 30),
        &[
            "vxlan leaf02 vni20 state: down -> up",
            "evpn leaf02 20 state: down -> up",
            "vxlan leaf01 vni20 remote_vteps: 10.0.0.13,10.0.0.14 -> 10.0.0.12,10.0.0.13,10.0.0.14",
        ],
    );
}

#[test]
fn licence_expires_and_is_renewed() {
    faulted(ago(21, 0), &["license leaf02 cumulus state: expired -> ok"]);
    let expires = |at| value("license", "leaf02", &["cumulus"], "expires_at", at);
    let expiry = ago(21, 0).to_string();
    let first_resync = expires(ago(45, 0));
    assert_eq!(
        first_resync,
        Some(expiry.clone()),
        "known from the first resync"
    );
    assert_eq!(expires(ago(20, 30)), Some(expiry));
    let renewed = expires(ago(19, 0)).and_then(|t| t.parse::<i64>().ok());
    assert!(renewed.is_some_and(|t| t > REFERENCE_NOW), "{renewed:?}");
}

#[test]
fn licence_goes_missing() {
    faulted(
        ago(19, 30),
        &["license exit01 cumulus state: missing -> ok"],
    );
}

#[test]
fn a_clock_loses_its_ntp_server_and_finds_it_again() {
    let struck = ago(13, 30);
    let leaf01 = |column, at| value("ntp", "leaf01", &[], column, at).unwrap_or_default();
    let (before, during, after) = (
        struck - MINUTE,
        struck + 30 * MINUTE,
        struck + HOUR + MINUTE,
    );
    assert_eq!(leaf01("synced", before), "true");
    assert_eq!(
        [leaf01("synced", during), leaf01("stratum", during)],
        ["false", "16"]
    );
    assert_eq!(
        [leaf01("synced", after), leaf01("stratum", after)],
        ["true", "3"]
    );
}

#[test]
fn lnv_service_node_and_vxrd_faults_then_retirement() {
    faulted(
        ago(18, 0),
        &[
            "lnv exit01 100 service_node: 10.0.0.21 -> 10.0.0.100",
            "lnv exit02 100 service_node: 10.0.0.100 -> 10.0.0.100",
        ],
    );
    faulted(
        ago(16, 30),
        &[
            "lnv exit02 100 state: down -> up",
            "lnv spine01 100 role: service-node -> service-node",
            "vxlan exit01 vni100 replication: ingress -> ingress",
        ],
    );
    let gone = ago(15, 0);
    assert_eq!(
        value("lnv", "spine02", &["100"], "state", gone),
        None,
        "retired"
    );
    assert_eq!(value("vxlan", "exit01", &["vni100"], "state", gone), None);
    assert!(value("vxlan", "exit01", &["vni100"], "state", gone - MINUTE).is_some());
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
                    | Fault::NtpUnsynced { .. }
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
