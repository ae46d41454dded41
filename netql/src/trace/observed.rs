//! The paths INT reports show a flow took: per report, the switches of its INT stack in hop
//! order, named by the seed's rule (a switch id is bytes 0, 1, 4 and 5 of one node's MAC), set
//! beside the computed paths.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, UInt32Type, UInt64Type};

use super::fabric::Fabric;
use super::{Hop, Path, parse_ip};
use crate::error::{Error, Result};

/// The switch paths of the traced flow's INT reports.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// Each distinct path once, in the order first seen.
    pub paths: Vec<Vec<String>>,
}

/// The switch id a MAC's text stands for.
fn switch_id(mac: &str) -> Option<u32> {
    let bytes: Vec<u8> = mac
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let [a, b, _, _, e, f] = <[u8; 6]>::try_from(bytes).ok()?;
    Some(u32::from_be_bytes([a, b, e, f]))
}

impl Observation {
    /// Reads the `int_hops` rows of the flow from `source` to `destination` (either may be
    /// unknown: any address of the endpoint's device then matches).
    pub fn load(
        fabric: &Fabric,
        batches: &[RecordBatch],
        source: &[IpAddr],
        destination: &[IpAddr],
    ) -> Result<Observation> {
        let names = switch_names(fabric);
        let mut reports: BTreeMap<(u32, u64), Vec<(u32, String)>> = BTreeMap::new();
        for batch in batches {
            let column = |name: &str| {
                batch
                    .column_by_name(name)
                    .ok_or_else(|| Error::Internal(format!("INT hops without `{name}`")))
            };
            let u32s = |name: &str| -> Result<_> { Ok(cast(column(name)?, &DataType::UInt32)?) };
            let (hw_id, hop, id) = (u32s("hw_id")?, u32s("hop")?, u32s("switch_id")?);
            let sequence = cast(column("sequence")?, &DataType::UInt64)?;
            let (src, dst) = (
                cast(column("src_ip")?, &DataType::Utf8)?,
                cast(column("dst_ip")?, &DataType::Utf8)?,
            );
            let local = column("local")?.as_boolean_opt().cloned();
            let (hw_id, hop, id) = (
                hw_id.as_primitive::<UInt32Type>(),
                hop.as_primitive::<UInt32Type>(),
                id.as_primitive::<UInt32Type>(),
            );
            let sequence = sequence.as_primitive::<UInt64Type>();
            let (src, dst) = (src.as_string::<i32>(), dst.as_string::<i32>());
            for row in 0..batch.num_rows() {
                let stacked = local
                    .as_ref()
                    .is_none_or(|l| l.is_valid(row) && !l.value(row));
                let matches = |column: &arrow::array::StringArray, wanted: &[IpAddr]| {
                    column.is_valid(row)
                        && parse_ip(column.value(row)).is_some_and(|ip| wanted.contains(&ip))
                };
                if !stacked
                    || !matches(src, source)
                    || !matches(dst, destination)
                    || id.is_null(row)
                {
                    continue;
                }
                let name = names
                    .get(&id.value(row))
                    .cloned()
                    .unwrap_or_else(|| format!("0x{:08x}", id.value(row)));
                reports
                    .entry((hw_id.value(row), sequence.value(row)))
                    .or_default()
                    .push((hop.value(row), name));
            }
        }
        let mut paths: Vec<Vec<String>> = Vec::new();
        for mut hops in reports.into_values() {
            hops.sort();
            let path: Vec<String> = hops.into_iter().map(|(_, name)| name).collect();
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        Ok(Observation { paths })
    }

    /// Marks each computed path observed or not, and adds the observed paths no computed path
    /// follows. Nothing changes when INT reported nothing of the flow.
    pub fn mark(&self, computed: &mut Vec<Path>) {
        if self.paths.is_empty() {
            return;
        }
        for path in computed.iter_mut() {
            let switches: Vec<String> = path.switches().iter().map(|s| s.to_string()).collect();
            path.observed = Some(self.paths.contains(&switches));
        }
        for observed in &self.paths {
            let followed = computed.iter().any(|p| {
                p.switches()
                    .iter()
                    .copied()
                    .eq(observed.iter().map(String::as_str))
            });
            if !followed {
                computed.push(Path {
                    hops: observed
                        .iter()
                        .map(|name| Hop {
                            hostname: name.clone(),
                            ..Hop::default()
                        })
                        .collect(),
                    observed: Some(true),
                    only_observed: true,
                });
            }
        }
    }
}

/// Switch id → the one node whose MACs stand for it.
fn switch_names(fabric: &Fabric) -> HashMap<u32, String> {
    let mut holders: HashMap<u32, Vec<&String>> = HashMap::new();
    for (host, device) in &fabric.devices {
        for mac in device.interfaces.values().filter_map(|i| i.mac.as_deref()) {
            if let Some(id) = switch_id(mac) {
                let names = holders.entry(id).or_default();
                if !names.contains(&host) {
                    names.push(host);
                }
            }
        }
    }
    holders
        .into_iter()
        .filter(|(_, names)| names.len() == 1)
        .map(|(id, names)| (id, names[0].clone()))
        .collect()
}
