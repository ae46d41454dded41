//! Property tests of the decoders and the collector on hostile input: valid datagrams of every
//! version mutated (bytes overwritten, inserted, removed, cut short) and arbitrary bytes behind
//! a plausible first byte. Nothing may panic; every datagram is either reports or one counted
//! error; no report claims more hops than a collector keeps. Bounded (ten thousand cases each, well under a second), so
//! CI runs it on every build.

use proptest::prelude::*;

use super::*;
use crate::int::{Collector, CollectorConfig};

#[derive(Debug, Clone)]
enum Mutation {
    Overwrite(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Cut(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Overwrite(at, byte)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

fn apply(datagram: &mut Vec<u8>, mutation: &Mutation) {
    if datagram.is_empty() {
        return;
    }
    match *mutation {
        Mutation::Overwrite(at, byte) => {
            let at = at % datagram.len();
            datagram[at] = byte;
        }
        Mutation::Insert(at, byte) => datagram.insert(at % (datagram.len() + 1), byte),
        Mutation::Remove(at) => {
            datagram.remove(at % datagram.len());
        }
        Mutation::Cut(at) => datagram.truncate(at % datagram.len()),
    }
}

fn seeds() -> Vec<Vec<u8>> {
    vec![
        flow_report_v0_5(0),
        flow_report_v0_5(1),
        flow_report(9, 0xFFFF_FF00),
        report_v1_0(),
        report_v2_0(),
    ]
}

/// Decodes through the collector and checks what a datagram may become.
fn collect(datagram: &[u8]) {
    let mut report = Report::default();
    let outcome = decode(datagram, &mut report, &mut |r| {
        assert!(r.hops().len() <= MAX_HOPS);
    });
    let mut collector = Collector::new(CollectorConfig::default());
    collector.datagram(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        1_795_176_000_000_000,
        datagram,
    );
    let stats = collector.stats();
    match outcome {
        Ok(reports) => assert_eq!((stats.reports, stats.errors), (reports as u64, 0)),
        Err(_) => assert_eq!((stats.reports, stats.errors), (0, 1)),
    }
    let batches = collector
        .take(1_795_176_000_000_000)
        .expect("batches build");
    for (table, batch) in batches {
        assert_eq!(batch.schema(), table.schema(), "{}", table.name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_reports_of_every_version_never_panic(
        seed in 0usize..5,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut datagram = seeds()[seed].clone();
        for m in &mutations {
            apply(&mut datagram, m);
        }
        collect(&datagram);
    }

    #[test]
    fn arbitrary_bytes_behind_a_version_nibble_never_panic(
        first in prop_oneof![Just(0x00u8), Just(0x01), Just(0x02), Just(0x10), Just(0x17), Just(0x20), Just(0x24)],
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut datagram = vec![first];
        datagram.extend(rest);
        collect(&datagram);
    }
}
