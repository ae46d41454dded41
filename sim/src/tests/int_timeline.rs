//! The reference fabric's INT exporters through their timeline, read back with Sonde's own
//! decoder: every datagram decodes in every version, queue and drop reports come during their
//! faults only, sequence numbers count each exporter's reports whatever the windows, and
//! switch ids name the nodes whose interfaces carry their MACs.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use arrow_array::StringArray;
use sonde_ingest::int::{Report as Decoded, ReportKind, Version, decode};
use sonde_schema::families::int::switch_id_of_mac;
use sonde_schema::row::Row;

use crate::fabric::{HOUR, MINUTE, SECOND};
use crate::int::{Datagram, IntVersion, switch_id};
use crate::{Batches, Node, REFERENCE_NOW, Simulation, Sink};

fn ago(hours: i64, minutes: i64) -> i64 {
    REFERENCE_NOW - (hours * HOUR + minutes * MINUTE)
}

fn reference(version: IntVersion) -> Simulation {
    let mut sim = Simulation::reference(REFERENCE_NOW);
    sim.set_int_version(version);
    sim
}

fn sent(sim: &Simulation, from: i64, to: i64) -> Vec<Datagram> {
    sim.int_source().expect("INT reports").datagrams(from, to)
}

fn decoded(datagram: &Datagram) -> Vec<Decoded> {
    let mut report = Decoded::default();
    let mut reports = Vec::new();
    decode(&datagram.bytes, &mut report, &mut |r| {
        reports.push(r.clone())
    })
    .unwrap_or_else(|e| panic!("{e:?} at {}: {:02x?}", datagram.at, datagram.bytes));
    reports
}

fn id(sim: &Simulation, name: &str) -> u32 {
    let t = sim.topology();
    switch_id(&t.nodes[t.node(name).expect("a node of the reference fabric")])
}

fn name(sim: &Simulation, datagram: &Datagram) -> String {
    sim.topology().nodes[datagram.exporter].name.to_string()
}

const SERVER01: Ipv4Addr = Ipv4Addr::new(10, 1, 10, 101);
const SERVER02: Ipv4Addr = Ipv4Addr::new(10, 1, 10, 102);
const SERVER03: Ipv4Addr = Ipv4Addr::new(10, 1, 30, 103);
const SERVER04: Ipv4Addr = Ipv4Addr::new(10, 1, 30, 104);

fn between(report: &Decoded, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
    report
        .flow
        .is_some_and(|f| (f.src, f.dst) == (IpAddr::V4(src), IpAddr::V4(dst)))
}

#[test]
fn queue_and_drop_reports_come_during_their_faults_only() {
    let sim = reference(IntVersion::V0_5);
    let congested = ago(12, 30)..ago(11, 30);
    let dropping = ago(11, 15)..ago(10, 15);
    let (mut queues, mut drops, mut deep_hops) = (0, 0, 0);
    for datagram in sent(&sim, ago(13, 0), ago(9, 45)) {
        let exporter = name(&sim, &datagram);
        for r in decoded(&datagram) {
            match r.kind {
                ReportKind::Queue => {
                    queues += 1;
                    assert!(congested.contains(&datagram.at), "{}", datagram.at);
                    assert_eq!(exporter, "spine01");
                    assert_eq!(r.switch_id, Some(id(&sim, "spine01")));
                    assert_eq!(r.local.egress_port, Some(3), "toward leaf03");
                    assert!(r.local.queue_occupancy.is_some_and(|o| o > 300));
                    assert!(r.local.hop_latency_ns.is_some_and(|l| l > 2048));
                    assert_eq!(r.hops().len(), 1, "the source leaf's hop");
                    assert_eq!(r.hops()[0].switch_id, Some(id(&sim, "leaf01")));
                    assert!(r.flow.is_some_and(|f| f.dst == IpAddr::V4(SERVER03)));
                }
                ReportKind::Drop => {
                    drops += 1;
                    assert!(dropping.contains(&datagram.at), "{}", datagram.at);
                    assert_eq!(exporter, "leaf02");
                    assert_eq!(
                        (r.switch_id, r.drop_reason),
                        (Some(id(&sim, "leaf02")), Some(60))
                    );
                    assert_eq!(
                        (r.local.ingress_port, r.local.egress_port),
                        (Some(2), Some(52))
                    );
                    assert!(between(&r, SERVER02, SERVER04) && r.hops().is_empty());
                }
                ReportKind::Flow => {
                    let dropped =
                        between(&r, SERVER02, SERVER04) && dropping.contains(&datagram.at);
                    assert!(!dropped, "a dropped flow's packets never reach its sink");
                    let deep = r.hops().iter().any(|h| h.queue_occupancy > Some(300));
                    assert_eq!(
                        deep,
                        congested.contains(&datagram.at) && exporter == "leaf03"
                    );
                    deep_hops += usize::from(deep);
                }
            }
        }
    }
    assert!(
        (700..=730).contains(&queues),
        "two flows by spine01 swp3, an hour: {queues}"
    );
    assert!(
        (355..=365).contains(&drops),
        "a drop report every 10 s: {drops}"
    );
    assert_eq!(
        deep_hops, queues,
        "the sink sees the deep queue on the stack too"
    );
}

#[test]
fn every_datagram_of_an_hour_decodes_in_every_version() {
    for (version, decoded_as) in [
        (IntVersion::V0_5, Version::V0_5),
        (IntVersion::V1_0, Version::V1_0),
        (IntVersion::V2_0, Version::V2_0),
    ] {
        let sim = reference(version);
        let flows: Vec<_> = sim.int_source().expect("INT").flows().cloned().collect();
        let mut kinds = BTreeMap::new();
        let mut most_in_one = 0;
        let datagrams = sent(&sim, ago(12, 0), ago(11, 0));
        for datagram in &datagrams {
            let exporter = id(&sim, &name(&sim, datagram));
            let reports = decoded(datagram);
            most_in_one = most_in_one.max(reports.len());
            for r in reports {
                assert_eq!((r.version, r.hw_id), (decoded_as, 1));
                *kinds.entry(r.kind.name()).or_insert(0) += 1;
                let tuple = r.flow.expect("a 5-tuple");
                let flow = flows
                    .iter()
                    .find(|f| IpAddr::V4(f.src) == tuple.src && IpAddr::V4(f.dst) == tuple.dst)
                    .expect("a tracked flow");
                let expected = (flow.src_port, flow.dst_port, flow.protocol.number());
                assert_eq!((tuple.src_port, tuple.dst_port, tuple.protocol), expected);
                let hops: Vec<u32> = r.hops().iter().filter_map(|h| h.switch_id).collect();
                let path: Vec<u32> = flow.paths[0]
                    .iter()
                    .rev()
                    .map(|c| id(&sim, &sim.topology().nodes[c.node].name))
                    .collect();
                match r.kind {
                    ReportKind::Flow => assert_eq!(hops, path, "sink, spine, source"),
                    ReportKind::Queue => assert_eq!(hops, path[2..]),
                    ReportKind::Drop => {
                        assert!(hops.is_empty());
                        assert_eq!(r.drop_reason, Some(60));
                    }
                }
                let names_itself = !(version == IntVersion::V0_5 && r.kind == ReportKind::Flow);
                if names_itself {
                    assert_eq!(r.switch_id, Some(exporter));
                } else {
                    assert_eq!(hops[0], exporter, "the sink's hop tops the stack");
                }
            }
        }
        assert_eq!(kinds.len(), 3, "{version:?}: {kinds:?}");
        let grouped = version == IntVersion::V2_0;
        assert_eq!(
            most_in_one > 1,
            grouped,
            "{version:?}: a tick's reports in one datagram"
        );
        assert!(datagrams.len() > 1000, "{}", datagrams.len());
    }
}

/// The first report's sequence number of each datagram, per exporter.
fn sequences(datagrams: &[Datagram]) -> BTreeMap<usize, Vec<(i64, u32)>> {
    let mut by_exporter: BTreeMap<usize, Vec<(i64, u32)>> = BTreeMap::new();
    for datagram in datagrams {
        let first = decoded(datagram)[0].sequence;
        by_exporter
            .entry(datagram.exporter)
            .or_default()
            .push((datagram.at, first));
    }
    by_exporter
}

#[test]
fn sequence_numbers_count_each_exporters_datagrams_whatever_the_windows() {
    for version in [IntVersion::V0_5, IntVersion::V1_0, IntVersion::V2_0] {
        let sim = reference(version);
        let whole = sent(&sim, ago(20, 0), ago(18, 30));
        let mut pieces = sent(&sim, ago(20, 0), ago(19, 7));
        pieces.extend(sent(&sim, ago(19, 7), ago(18, 30)));
        assert_eq!(whole, pieces, "{version:?}: windows change nothing");
        assert_eq!(
            whole,
            sent(&reference(version), ago(20, 0), ago(18, 30)),
            "the same bytes again"
        );
        let by_exporter = sequences(&whole);
        assert_eq!(by_exporter.len(), 3, "the three sinks");
        for (exporter, numbers) in by_exporter {
            assert!(
                numbers.len() > 500,
                "{version:?} {exporter}: {}",
                numbers.len()
            );
            for pair in numbers.windows(2) {
                assert_eq!(pair[1].1, pair[0].1 + 1, "{version:?} {exporter}: {pair:?}");
            }
        }
    }
}

#[test]
fn lost_datagrams_leave_gaps_in_their_exporters_numbers() {
    let sim = reference(IntVersion::V0_5);
    let leaf03 = sim.topology().node("leaf03").expect("leaf03");
    let lossy = ago(14, 0)..ago(13, 50);
    let numbers = sequences(&sent(&sim, ago(14, 20), ago(13, 30)))
        .remove(&leaf03)
        .expect("leaf03 reports");
    let mut lost = 0;
    for pair in numbers.windows(2) {
        let gap = pair[1].1 - pair[0].1 - 1;
        if gap > 0 {
            assert!(
                lossy.contains(&pair[1].0) || lossy.contains(&(pair[1].0 - 10 * SECOND)),
                "{pair:?}"
            );
        }
        lost += gap;
    }
    assert!((20..=60).contains(&lost), "a third of 120 reports: {lost}");
}

#[test]
fn flows_move_to_the_other_spine_while_a_cable_is_down_and_stop_without_a_route() {
    let sim = reference(IntVersion::V0_5);
    let down = ago(10, 5)..ago(9, 30) + 5 * SECOND;
    let withdrawn = ago(6, 0)..ago(5, 50);
    let (spine01, spine02) = (id(&sim, "spine01"), id(&sim, "spine02"));
    let mut moved = 0;
    for datagram in sent(&sim, ago(10, 10), ago(9, 20)) {
        for r in decoded(&datagram)
            .iter()
            .filter(|r| between(r, SERVER01, SERVER03))
        {
            let spine = r.hops()[1].switch_id;
            let by_spine02 = down.contains(&datagram.at);
            assert_eq!(spine, Some(if by_spine02 { spine02 } else { spine01 }));
            assert_eq!(
                r.hops()[0].ingress_port,
                Some(if by_spine02 { 52 } else { 51 })
            );
            moved += usize::from(by_spine02);
        }
    }
    assert!(moved > 150, "{moved}");
    for datagram in sent(&sim, ago(6, 10), ago(5, 40)) {
        let to_leaf03 = decoded(&datagram)
            .iter()
            .any(|r| r.flow.is_some_and(|f| f.dst == IpAddr::V4(SERVER03)));
        assert!(
            !(to_leaf03 && withdrawn.contains(&datagram.at)),
            "leaf01 has no route to 10.1.30.0/24"
        );
    }
}

#[test]
fn switch_ids_name_the_nodes_whose_interfaces_carry_their_macs() {
    let mut sim = Simulation::reference(REFERENCE_NOW);
    let start = sim.start();
    let mut batches = Batches::default();
    sim.run(start, start + 1, &mut batches);
    let mut hosts: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for (table, batch) in batches.take().expect("batches") {
        if table != "interfaces" {
            continue;
        }
        let column = |name| -> &StringArray {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref())
                .expect("strings")
        };
        let (hostnames, macs) = (column("hostname"), column("mac"));
        for i in 0..batch.num_rows() {
            let mac: Vec<u8> = macs
                .value(i)
                .split(':')
                .map(|b| u8::from_str_radix(b, 16).expect("hex"))
                .collect();
            let mac: [u8; 6] = mac.try_into().expect("six bytes");
            hosts
                .entry(switch_id_of_mac(mac))
                .or_default()
                .insert(hostnames.value(i).to_string());
        }
    }
    for node in &sim.topology().nodes {
        let names = hosts.get(&switch_id(node)).cloned().unwrap_or_default();
        assert_eq!(
            names,
            BTreeSet::from([node.name.to_string()]),
            "{}",
            node.name
        );
    }
    assert_eq!(id(&sim, "leaf03"), 0x4438_0004);
}

/// Everything a simulation sends, in order: rows as their time, datagrams as time and source.
#[derive(Default)]
struct Recorder {
    sent: Vec<(i64, Option<(String, IpAddr)>)>,
}

impl Sink for Recorder {
    fn agent_row(&mut self, _: &Node, row: Row) {
        self.sent.push((row.time, None));
    }

    fn int_datagram(&mut self, exporter: &Node, address: IpAddr, at: i64, _: &[u8]) {
        self.sent
            .push((at, Some((exporter.name.to_string(), address))));
    }
}

#[test]
fn a_sink_gets_rows_and_datagrams_in_time_order_and_scale_sends_none() {
    let mut sim = Simulation::reference(REFERENCE_NOW);
    let mut recorder = Recorder::default();
    sim.run(ago(12, 0), ago(11, 50), &mut recorder);
    assert!(
        recorder.sent.windows(2).all(|w| w[0].0 <= w[1].0),
        "in time order"
    );
    let sources: BTreeSet<_> = recorder
        .sent
        .iter()
        .filter_map(|(_, s)| s.clone())
        .collect();
    let loopback = |name: &str| -> (String, IpAddr) {
        (
            name.into(),
            sim.topology().nodes[sim.topology().node(name).expect("node")]
                .loopback
                .parse()
                .expect("address"),
        )
    };
    let expected = BTreeSet::from(["leaf01", "leaf03", "leaf04", "spine01"].map(loopback));
    assert_eq!(
        sources, expected,
        "the sinks and the congested spine, from their loopbacks"
    );
    assert!(
        recorder.sent.iter().any(|(_, s)| s.is_none()),
        "agent rows too"
    );
    let scale = Simulation::scale(40, REFERENCE_NOW - HOUR, REFERENCE_NOW);
    assert!(scale.int_source().is_none());
    sim.disable_int();
    let mut quiet = Recorder::default();
    sim.run(ago(12, 0), ago(11, 50), &mut quiet);
    assert!(quiet.sent.iter().all(|(_, s)| s.is_none()));
}
