//! Running a fabric through time: the first resync, heartbeats, the faults of a timeline and
//! background churn, emitted window by window in time order, as the agents would send them, with
//! the INT exporters' report datagrams among them.

use std::collections::HashMap;
use std::net::IpAddr;

use sonde_schema::row::Row;

use crate::fabric::{
    self, DAY, HEARTBEAT_INTERVAL_S, HOUR, MINUTE, NodeRow, SECOND, SessionState, session_row,
    temperature,
};
use crate::int::{self, Datagram, IntSource, IntVersion, Schedule};
use crate::timeline::{self, Fault};
use crate::topology::{Node, Role, Topology};

/// Where a simulation's output goes. Agents send rows, INT exporters report datagrams; ZTP
/// clients (DHCP and HTTP requests) get their own methods when their source joins.
pub trait Sink {
    /// One row `node`'s agent sends.
    fn agent_row(&mut self, node: &Node, row: Row);

    /// One telemetry report datagram (the UDP payload) `exporter` sends from `exporter_addr`
    /// at `at` (µs since the epoch). Sinks that keep only agent rows ignore it.
    fn int_datagram(&mut self, exporter: &Node, exporter_addr: IpAddr, at: i64, datagram: &[u8]) {
        let _ = (exporter, exporter_addr, at, datagram);
    }
}

/// The background changes of a living fabric, each about once per period (µs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Churn {
    /// Every BGP session's received-prefix count moves.
    pub prefixes: Option<i64>,
    /// Every node's board temperature moves by a degree or two.
    pub temperature: Option<i64>,
    /// Every fabric link fails for 5–30 minutes with probability one in this many per hour.
    pub flap_one_in: Option<u64>,
    /// Every spine's fan fails for a few hours with probability one in this many per day.
    pub fan_one_in: Option<u64>,
}

impl Churn {
    /// A large fabric's steady state: prefixes hourly, temperatures every two hours, a link in
    /// 48 failing each hour, a spine in 20 losing a fan each day.
    pub fn busy() -> Churn {
        Churn {
            prefixes: Some(HOUR),
            temperature: Some(2 * HOUR),
            flap_one_in: Some(48),
            fan_one_in: Some(20),
        }
    }
}

#[derive(Debug)]
pub struct Simulation {
    topology: Topology,
    /// When the agents started and sent their first resync.
    start: i64,
    /// When the fabric's BGP sessions came up.
    established: i64,
    scheduled: Vec<(i64, NodeRow)>,
    /// The timeline, for what the first resync already shows of it (a licence's expiry date).
    faults: Vec<Fault>,
    /// When each node's agent stopped sending, if it did.
    stops: Vec<Option<i64>>,
    heartbeat: i64,
    churn: Churn,
    seed: u64,
    /// Per fabric link, the last time its sessions came back after a flap.
    reestablished: HashMap<usize, i64>,
    /// The INT exporters, when they report.
    int: Option<IntSource>,
    /// µs between an INT exporter's reports on one stream.
    int_period: i64,
}

impl Simulation {
    /// A fabric whose agents start at `start`, with `faults` on its timeline.
    pub fn new(topology: Topology, start: i64, established: i64, faults: &[Fault]) -> Simulation {
        let mut stops = vec![None; topology.nodes.len()];
        let mut scheduled = Vec::new();
        for (n, fault) in faults.iter().enumerate() {
            if let Fault::AgentStops { node, at } = fault {
                stops[*node] = Some(*at);
            }
            let id = format!("ev-{}", n + 1);
            scheduled.extend(
                fault
                    .rows(&topology, &id)
                    .into_iter()
                    .map(|(node, row)| (row.time, (node, row))),
            );
        }
        scheduled.sort_by_key(|(at, _)| *at);
        Simulation {
            topology,
            start,
            established,
            scheduled,
            faults: faults.to_vec(),
            stops,
            heartbeat: i64::from(HEARTBEAT_INTERVAL_S) * SECOND,
            churn: Churn::default(),
            seed: 0x5eed,
            reestablished: HashMap::new(),
            int: None,
            int_period: int::DEFAULT_PERIOD,
        }
    }

    /// The seed's reference data centre over the two days before `now`, with its timeline;
    /// its switches export INT reports in v0.5.
    pub fn reference(now: i64) -> Simulation {
        let topology = Topology::reference();
        let faults = timeline::reference_faults(&topology, now);
        let mut sim = Simulation::new(topology, now - 2 * DAY, timeline::sessions_up(now), &faults);
        sim.set_int_version(IntVersion::V0_5);
        sim
    }

    /// A CLOS fabric of about `nodes` switches from `start`, busy with churn; one exit's agent
    /// stops two hours before `end`.
    pub fn scale(nodes: usize, start: i64, end: i64) -> Simulation {
        Simulation::scale_on(Topology::clos(nodes), start, end)
    }

    /// [`Simulation::scale`] on `topology`.
    pub fn scale_on(topology: Topology, start: i64, end: i64) -> Simulation {
        let rotten = topology.node("exit02").map(|node| Fault::AgentStops {
            node,
            at: end - 2 * HOUR,
        });
        let mut sim = Simulation::new(topology, start, start, &Vec::from_iter(rotten));
        sim.churn = Churn::busy();
        sim
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    pub fn start(&self) -> i64 {
        self.start
    }

    pub fn set_churn(&mut self, churn: Churn) {
        self.churn = churn;
    }

    /// The switches export INT reports in `version` (they export none until this is called).
    pub fn set_int_version(&mut self, version: IntVersion) {
        let schedule = Schedule {
            version,
            period: self.int_period,
            start: self.start,
            established: self.established,
            seed: self.seed,
        };
        self.int = Some(IntSource::new(&self.topology, &self.faults, schedule));
    }

    /// µs between an INT exporter's reports on one stream (default `int::DEFAULT_PERIOD`).
    pub fn set_int_period(&mut self, period: i64) {
        self.int_period = period.max(1);
        if let Some(version) = self.int.as_ref().map(IntSource::version) {
            self.set_int_version(version);
        }
    }

    /// The switches stop exporting INT reports.
    pub fn disable_int(&mut self) {
        self.int = None;
    }

    /// The INT exporters, when they report.
    pub fn int_source(&self) -> Option<&IntSource> {
        self.int.as_ref()
    }

    /// Sends everything that happens in `[from, to)` to `sink`, in time order.
    pub fn run(&mut self, from: i64, to: i64, sink: &mut impl Sink) {
        let mut rows: Vec<NodeRow> = Vec::new();
        let first_resync = self.start..=self.start.max(self.established);
        if from <= *first_resync.end() && to > self.start {
            let mut initial = fabric::initial_rows(&self.topology, self.start, self.established);
            for fault in &self.faults {
                fault.amend_first_resync(&mut initial, self.start);
            }
            rows.extend(
                initial
                    .into_iter()
                    .filter(|(_, row)| (from..to).contains(&row.time)),
            );
        }
        let first = self.scheduled.partition_point(|(at, _)| *at < from);
        let last = self.scheduled.partition_point(|(at, _)| *at < to);
        rows.extend(
            self.scheduled[first..last]
                .iter()
                .map(|(_, row)| row.clone()),
        );
        self.heartbeats(from, to, &mut rows);
        self.churn(from, to, &mut rows);
        rows.sort_by_key(|(_, row)| row.time);
        let datagrams = self.int.as_ref().map(|int| int.datagrams(from, to));
        let mut datagrams = datagrams.unwrap_or_default().into_iter().peekable();
        for (node, row) in rows {
            while let Some(datagram) = datagrams.next_if(|d| d.at < row.time) {
                self.send_datagram(&datagram, sink);
            }
            if self.stops[node].is_none_or(|stop| row.time < stop) {
                sink.agent_row(&self.topology.nodes[node], row);
            }
        }
        for datagram in datagrams {
            self.send_datagram(&datagram, sink);
        }
    }

    fn send_datagram(&self, datagram: &Datagram, sink: &mut impl Sink) {
        let exporter = &self.topology.nodes[datagram.exporter];
        sink.int_datagram(exporter, datagram.address, datagram.at, &datagram.bytes);
    }

    /// The ticks of a per-object period in `[from, to)` after the start, each object with its own phase.
    fn ticks(
        &self,
        object: u64,
        period: i64,
        from: i64,
        to: i64,
    ) -> impl Iterator<Item = i64> + use<> {
        let phase = (mix(self.seed, object, period as u64) % period as u64) as i64;
        let first = self.start + phase;
        let k = if from <= first {
            0
        } else {
            (from - first + period - 1) / period
        };
        (k..)
            .map(move |k| first + k * period)
            .take_while(move |&t| t < to)
    }

    fn heartbeats(&self, from: i64, to: i64, rows: &mut Vec<NodeRow>) {
        for (n, node) in self.topology.nodes.iter().enumerate() {
            let template = fabric::heartbeat(node, self.start, self.start);
            for at in self.ticks(n as u64, self.heartbeat, from, to) {
                let mut row = template.clone();
                row.time = at;
                rows.push((n, row));
            }
        }
    }

    fn churn(&mut self, from: i64, to: i64, rows: &mut Vec<NodeRow>) {
        let flaps = self.flaps(from, to, rows);
        if let Some(period) = self.churn.prefixes {
            self.prefix_changes(period, from, to, &flaps, rows);
        }
        if let Some(period) = self.churn.temperature {
            for n in 0..self.topology.nodes.len() {
                for at in self.ticks(n as u64 + (1 << 32), period, from, to) {
                    let celsius = 35.0 + (mix(self.seed, n as u64, at as u64) % 8) as f64;
                    rows.push((n, temperature(at, celsius)));
                }
            }
        }
        if let Some(one_in) = self.churn.fan_one_in {
            self.fan_failures(one_in, from, to, rows);
        }
    }

    /// The periods (hours, days…) in `[from − period, to)` after the start in which an event with
    /// a chance of one in `one_in` happens to `object`, each with the dice that decided it.
    fn struck(
        &self,
        salt: u64,
        object: u64,
        period: i64,
        one_in: u64,
        from: i64,
        to: i64,
    ) -> Vec<(i64, u64)> {
        let first = (from.div_euclid(period) - 1) * period;
        (first..to)
            .step_by(period as usize)
            .filter(|&at| at >= self.start)
            .map(|at| (at, mix(self.seed ^ salt, object, at as u64)))
            .filter(|(_, dice)| dice.is_multiple_of(one_in))
            .collect()
    }

    /// The rows of `fault` that fall in `[from, to)`.
    fn fault_rows(&self, fault: Fault, id: &str, from: i64, to: i64, rows: &mut Vec<NodeRow>) {
        let window = from..to;
        rows.extend(
            fault
                .rows(&self.topology, id)
                .into_iter()
                .filter(|(_, r)| window.contains(&r.time)),
        );
    }

    /// The link flaps whose rows fall in `[from, to)`; returns each flapping link's (down, back
    /// up) times.
    fn flaps(
        &self,
        from: i64,
        to: i64,
        rows: &mut Vec<NodeRow>,
    ) -> HashMap<usize, Vec<(i64, i64)>> {
        let mut flaps: HashMap<usize, Vec<(i64, i64)>> = HashMap::new();
        let Some(one_in) = self.churn.flap_one_in else {
            return flaps;
        };
        for (l, link) in self.topology.fabric_links() {
            for (hour, dice) in self.struck(0, l as u64, HOUR, one_in, from, to) {
                let down = hour + (dice >> 16) as i64 % (45 * MINUTE);
                let back = down + (5 + (dice >> 40) as i64 % 25) * MINUTE;
                let fault = Fault::LinkDown {
                    node: link.a.node,
                    ifname: link.a.ifname.clone(),
                    at: down,
                    back: Some(back),
                };
                self.fault_rows(fault, &format!("flap-{l}-{}", hour / HOUR), from, to, rows);
                flaps.entry(l).or_default().push((down, back + 5 * SECOND));
            }
        }
        flaps
    }

    fn prefix_changes(
        &mut self,
        period: i64,
        from: i64,
        to: i64,
        flaps: &HashMap<usize, Vec<(i64, i64)>>,
        rows: &mut Vec<NodeRow>,
    ) {
        for (l, link) in self.topology.fabric_links() {
            let link_flaps = flaps.get(&l).map_or(&[][..], Vec::as_slice);
            for at in self.ticks(l as u64 + (2 << 32), period, from, to) {
                if link_flaps
                    .iter()
                    .any(|&(down, up)| (down..=up).contains(&at))
                {
                    continue;
                }
                let established = link_flaps
                    .iter()
                    .map(|&(_, up)| up)
                    .filter(|&up| up < at)
                    .chain(self.reestablished.get(&l).copied())
                    .max()
                    .unwrap_or(self.established);
                let prefixes = 10 + mix(self.seed, l as u64, at as u64) % 5;
                let state = SessionState {
                    up: true,
                    established_at: established,
                    reason: None,
                    prefixes,
                };
                rows.push(session_row(&self.topology, link, true, at, state));
                rows.push(session_row(&self.topology, link, false, at + SECOND, state));
            }
        }
        for (l, link_flaps) in flaps {
            if let Some(up) = link_flaps
                .iter()
                .map(|&(_, up)| up)
                .filter(|&up| up < to)
                .max()
            {
                let last = self.reestablished.entry(*l).or_insert(up);
                *last = (*last).max(up);
            }
        }
    }

    fn fan_failures(&self, one_in: u64, from: i64, to: i64, rows: &mut Vec<NodeRow>) {
        let spines =
            (0..self.topology.nodes.len()).filter(|&n| self.topology.nodes[n].role == Role::Spine);
        for n in spines {
            for (day, dice) in self.struck(0xfa, n as u64, DAY, one_in, from, to) {
                let at = day + (dice >> 16) as i64 % (20 * HOUR);
                let back = at + (1 + (dice >> 40) as i64 % 3) * HOUR;
                let fault = Fault::FanFails {
                    node: n,
                    fan: "fan2".into(),
                    at,
                    back: Some(back),
                };
                self.fault_rows(fault, &format!("fan-{n}-{}", day / DAY), from, to, rows);
            }
        }
    }
}

/// A stable hash of three numbers (SplitMix64 finaliser), so that every run of a simulation
/// makes the same choices whatever its windows.
pub(crate) fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
