//! NetQL's print-and-parse round trip: every statement form printed canonically parses back to
//! the same tree, and random statements (also used by `netql_plans`) never panic the parser.

use netql::parse;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::netql_parse::parsed;

/// Every statement form in its canonical text: printing the parsed tree gives the text back.
const ROUND_TRIP: &[&str] = &[
    "check bgp",
    "spine01 check bgp around 10h",
    "leaf01,leaf02 check clag json",
    "spine0[12] check mtu between 2d and 1d",
    "* check agents",
    "check ntp around 2026-11-20T10:00:00Z",
    "check sensors around 2026-11-20T10:00:00.123456Z json",
    "check vxlan around now",
    "show agents",
    "show bgp vrf default",
    "spine01 show bgp around 10h",
    "show bgp asn 65020 state Established json",
    "show interfaces swp1",
    "show interfaces swp1 type swp",
    "leaf* show interfaces state down changes between 1w and now",
    "show ip routes 10.0.0.0/24 vrf default",
    "show ipv6 routes 2001:db8::/32",
    "show ip addresses 10.1.1.1",
    "show ipv6 neighbors fe80::1",
    "show ip neighbors vrf mgmt",
    "show macs 44:38:39:00:00:01 vlan 10",
    "show lldp swp51",
    "show services name \"ntp server\" status ok",
    "show services name \"say \\\"hi\\\" \\\\ bye\"",
    "show evpn vni 10100",
    "show int drops switch_id 7",
    "show int hops spine01 latency > 1000",
    "show int hops hop 0 occupancy >= 300 latency <= 5000",
    "show int congestion queue != 0 between 13h and 11h",
    "leaf01 show int flows src_ip 10.1.1.10 dst_port 80 json",
    "show int loss loss > 0.5",
    "show int reports type drop around 11h",
    "show int errors",
    "leaf0* check int around 12h json",
    "show bgp asn >= 65000",
    "show ztp dhcp mac 44:38:39:00:00:02",
    "show ztp devices status provisioned between 1d and now",
    "leaf0* check ztp around 1h json",
    "show kubernetes",
    "show bgp changes",
    "show changes",
    "show changes type bgp between 1d4h and 1h",
    "show changes type ipv6 routes",
    "show events",
    "show events type clag level critical around 1h",
    "exit? show events level info",
    "show tables",
    "show tables json",
    "describe bgp",
    "describe int_reports json",
    "select * from int_hops where hop_latency_ns > 2048 and hop < 3",
    "trace 10.244.40.193 from 10.244.6.6",
    "trace 44:38:39:00:00:01 from leaf01 vrf default vlan 10 around 30m json",
    "trace server03 from server02 detail bidir",
    "select * from bgp",
    "select hostname, count(*) from interfaces where state != up group by hostname",
    "select count(distinct asn), count(peer) from bgp where hostname = leaf* and vrf = default \
     order by asn desc, peer limit 5 around 1h json",
    "explain spine01 check bgp around 10h",
    "explain select * from macs limit 1",
    "select hostname, max(asn) as top from bgp where (asn > 1 or not state = up) and peer in (swp1, swp2) \
     group by hostname having count(*) > 2 order by top desc limit 5 offset 2",
    "select * from bgp between 2d and 1d where asn not between 1 and 5 and state like \"Est%\" \
     and peer_hostname is not null",
    "select hostname, lower(state) from bgp where timestamp > now() - 1h and asn * 2 + - 1 >= 10 \
     and (asn + 1) % 7 != 0 around 1h json",
    "select count(distinct peer) from bgp where - (asn - peer_asn) < 0 or peer not like \"swp%\"",
    "show bgp where pfx_rx_ipv4 < 2",
    "leaf* check bgp around 1h where reason like \"%Idle%\" or hostname in (leaf01) json",
];

#[test]
fn netql_printing_and_parsing_again_gives_the_same_tree() {
    for input in ROUND_TRIP {
        let tree = parsed(input);
        let text = tree.to_string();
        assert_eq!(text, *input, "canonical text");
        assert_eq!(parsed(&text), tree, "{input}");
    }
}

#[test]
fn netql_non_canonical_text_round_trips_through_its_canonical_form() {
    for input in [
        "SPINE01   CHECK   BGP   AROUND   600s   JSON",
        "leaf01 , leaf02 show BGP VRF default",
        "show ip routes 010.0.0.1/24",
        "show macs 44:38:39:0A:0B:0C",
        "show ipv6 neighbors 2001:0db8:0000::0001",
        "check bgp between 168h and 00s",
        "select HOSTNAME,COUNT( * ) from BGP where VRF=default order by HOSTNAME asc",
        "show services name 'single'",
        "trace 10.0.0.1 vlan 0010 from leaf01",
        "show int hops latency>1000 hop=2 spine01",
        "show INT Flows protocol = 6 dst_port<1024 src_ip 10.1.1.10",
    ] {
        let tree = parsed(input);
        assert_eq!(parsed(&tree.to_string()), tree, "{input} printed as {tree}");
    }
    assert_eq!(
        parsed("check bgp between 168h and 00s").to_string(),
        "check bgp between 1w and 0s"
    );
    assert_eq!(
        parsed("show macs 44:38:39:0A:0B:0C").to_string(),
        "show macs 44:38:39:0a:0b:0c"
    );
    assert_eq!(
        parsed("show int hops latency>1000 hop=2 spine01").to_string(),
        "show int hops spine01 hop 2 latency > 1000"
    );
}

/// Words of the language and near misses, for the random statements below.
const VOCABULARY: &[&str] = &[
    "check",
    "show",
    "trace",
    "describe",
    "explain",
    "select",
    "from",
    "where",
    "and",
    "group",
    "order",
    "by",
    "asc",
    "desc",
    "limit",
    "count",
    "distinct",
    "or",
    "not",
    "in",
    "like",
    "is",
    "null",
    "having",
    "offset",
    "as",
    "+",
    "-",
    "/",
    "%",
    "max(",
    "now()",
    "around",
    "between",
    "json",
    "changes",
    "tables",
    "events",
    "type",
    "level",
    "error",
    "bgp",
    "interfaces",
    "ip",
    "ipv6",
    "routes",
    "neighbors",
    "addresses",
    "vlan",
    "vrf",
    "default",
    "asn",
    "65020",
    "leaf01",
    "spine0[12]",
    "leaf*",
    "exit?",
    "*",
    ",",
    "(",
    ")",
    "=",
    "!=",
    ">",
    ">=",
    "<",
    "<=",
    "int",
    "hops",
    "flows",
    "latency",
    "10h",
    "1d4h",
    "now",
    "10x",
    "2026-11-20T10:00:00Z",
    "2026-13-45T99:00:00Z",
    "10.0.0.1",
    "10.0.0.0/24",
    "fe80::1",
    "44:38:39:00:00:01",
    "\"quoted text\"",
    "'single'",
    "\"unterminated",
    "\\",
    "swp1",
    "0",
    "99999999999999999999999",
    "\"",
    "é",
    "\t",
    "\n",
];

fn random_piece(rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0 => rng.random::<char>().to_string(),
        1 => char::from(rng.random_range(b' '..=b'~')).to_string(),
        _ => VOCABULARY[rng.random_range(0..VOCABULARY.len())].to_string(),
    }
}

/// Up to 14 pieces of vocabulary and random characters, mostly space-separated.
pub(crate) fn random_statement(rng: &mut StdRng) -> String {
    let mut text = String::new();
    for _ in 0..rng.random_range(0..14) {
        text.push_str(&random_piece(rng));
        if rng.random_bool(0.8) {
            text.push(' ');
        }
    }
    text
}

/// A valid statement with up to three words removed, inserted, replaced or upper-cased.
pub(crate) fn mutated_statement(rng: &mut StdRng) -> String {
    let base = ROUND_TRIP[rng.random_range(0..ROUND_TRIP.len())];
    let mut words: Vec<String> = base.split(' ').map(str::to_string).collect();
    for _ in 0..rng.random_range(0..4) {
        let at = rng.random_range(0..=words.len());
        let last = at.min(words.len().saturating_sub(1));
        match rng.random_range(0..4) {
            0 if !words.is_empty() => drop(words.remove(last)),
            1 if !words.is_empty() => words[last] = random_piece(rng),
            2 if !words.is_empty() => words[last] = words[last].to_uppercase(),
            _ => words.insert(at, random_piece(rng)),
        }
    }
    words.join(" ")
}

#[test]
fn netql_parse_never_panics_on_random_input() {
    let mut rng = StdRng::seed_from_u64(0x4e65_7451);
    let mut parsed_ok = 0;
    for round in 0..6000 {
        let input = if round % 2 == 0 {
            random_statement(&mut rng)
        } else {
            mutated_statement(&mut rng)
        };
        match parse(&input) {
            Ok(tree) => {
                parsed_ok += 1;
                let text = tree.to_string();
                assert_eq!(
                    parse(&text).as_ref(),
                    Ok(&tree),
                    "{input:?} printed as {text:?}"
                );
            }
            Err(err) => {
                let span = err.span();
                assert!(
                    span.start <= span.end && span.end <= input.len(),
                    "{input:?}: {err:?}"
                );
                assert!(err.render(&input).contains('^'), "{input:?}");
            }
        }
    }
    assert!(parsed_ok > 300, "only {parsed_ok} random statements parsed");
}
