//! A trace printed as NetQ prints it: the summary, then the paths drawn with each shared prefix
//! printed once; `detail` as a table of hops; JSON as paths of hop objects with the summary.
//!
//! Everything is read back from the answer's rows (one per hop), so an answer fetched over Arrow
//! Flight prints exactly as one computed in-process.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::UInt32Type;
use serde_json::{Value as Json, json};

use crate::error::{Error, Result};

/// One hop as the rows hold it.
#[derive(Debug, Clone, Default)]
struct Row {
    hostname: String,
    in_ifname: Option<String>,
    out_ifname: Option<String>,
    vrf: Option<String>,
    vlan: Option<u32>,
    in_mtu: Option<u32>,
    mtu: Option<u32>,
    tunnel: Option<String>,
    error: Option<String>,
    warning: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct DrawnPath {
    hops: Vec<Row>,
    observed: Option<bool>,
    computed: bool,
}

impl DrawnPath {
    fn has_error(&self) -> bool {
        self.hops.iter().any(|h| h.error.is_some())
    }

    fn has_warning(&self) -> bool {
        self.hops.iter().any(|h| h.warning.is_some())
    }

    fn mtu(&self) -> Option<u32> {
        super::smallest_mtu(self.hops.iter().map(|h| (h.in_mtu, h.mtu)))
    }

    /// `server02:eth1`, one per hop.
    fn labels(&self) -> Vec<String> {
        self.hops
            .iter()
            .map(|h| match (&h.out_ifname, &h.tunnel) {
                (Some(ifname), Some(vtep)) => format!("{}:{ifname}({vtep})", h.hostname),
                (Some(ifname), None) => format!("{}:{ifname}", h.hostname),
                (None, _) => h.hostname.clone(),
            })
            .collect()
    }
}

/// The paths of each direction, `forward` first.
fn read(batches: &[RecordBatch]) -> Result<Vec<(String, Vec<DrawnPath>)>> {
    let mut directions: BTreeMap<(u8, String), BTreeMap<u32, DrawnPath>> = BTreeMap::new();
    for batch in batches {
        let text = |name: &str| -> Result<_> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| Error::Internal(format!("a trace answer without `{name}`")))
        };
        let number = |name: &str| -> Result<_> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<UInt32Type>())
                .ok_or_else(|| Error::Internal(format!("a trace answer without `{name}`")))
        };
        let flag = |name: &str| -> Result<_> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_boolean_opt())
                .ok_or_else(|| Error::Internal(format!("a trace answer without `{name}`")))
        };
        let (direction, path, hostname) = (text("Direction")?, number("Path")?, text("Hostname")?);
        let (in_ifname, out_ifname, vrf) =
            (text("In Interface")?, text("Out Interface")?, text("VRF")?);
        let (vlan, in_mtu, mtu) = (number("VLAN")?, number("In MTU")?, number("MTU")?);
        let (tunnel, error, warning) = (text("Tunnel")?, text("Error")?, text("Warning")?);
        let (observed, computed) = (flag("Observed")?, flag("Computed")?);
        let opt_text = |column: &arrow::array::StringArray, row: usize| {
            column.is_valid(row).then(|| column.value(row).to_string())
        };
        let opt_number = |column: &arrow::array::UInt32Array, row: usize| {
            column.is_valid(row).then(|| column.value(row))
        };
        for row in 0..batch.num_rows() {
            let name = direction.value(row).to_string();
            let order = u8::from(name != "forward");
            let drawn = directions
                .entry((order, name))
                .or_default()
                .entry(path.value(row))
                .or_default();
            drawn.observed = observed.is_valid(row).then(|| observed.value(row));
            drawn.computed = computed.value(row);
            drawn.hops.push(Row {
                hostname: hostname.value(row).to_string(),
                in_ifname: opt_text(in_ifname, row),
                out_ifname: opt_text(out_ifname, row),
                vrf: opt_text(vrf, row),
                vlan: opt_number(vlan, row),
                in_mtu: opt_number(in_mtu, row),
                mtu: opt_number(mtu, row),
                tunnel: opt_text(tunnel, row),
                error: opt_text(error, row),
                warning: opt_text(warning, row),
            });
        }
    }
    Ok(directions
        .into_iter()
        .map(|((_, name), paths)| (name, paths.into_values().collect()))
        .collect())
}

struct Summary {
    paths: usize,
    errors: usize,
    warnings: usize,
    mtu: Option<u32>,
}

fn summary(paths: &[DrawnPath]) -> Summary {
    let computed: Vec<&DrawnPath> = paths.iter().filter(|p| p.computed).collect();
    Summary {
        paths: computed.len(),
        errors: computed.iter().filter(|p| p.has_error()).count(),
        warnings: computed.iter().filter(|p| p.has_warning()).count(),
        mtu: computed.iter().filter_map(|p| p.mtu()).min(),
    }
}

/// The text form; `detail` lists every hop as a table row.
pub(crate) fn render_text(batches: &[RecordBatch], detail: bool) -> Result<String> {
    let mut out = String::new();
    for (direction, paths) in read(batches)? {
        if direction != "forward" {
            out.push_str("\nReverse path:\n");
        }
        let s = summary(&paths);
        out.push_str(&format!("Number of Paths: {}\n", s.paths));
        out.push_str(&format!("Number of Paths with Errors: {}\n", s.errors));
        out.push_str(&format!("Number of Paths with Warnings: {}\n", s.warnings));
        let mtu = s.mtu.map(|m| m.to_string()).unwrap_or_else(|| "-".into());
        out.push_str(&format!("Path MTU: {mtu}\n"));
        let computed: Vec<&DrawnPath> = paths.iter().filter(|p| p.computed).collect();
        if detail {
            out.push_str(&detail_table(&computed));
        } else {
            out.push_str(&draw(&computed));
        }
        out.push_str(&faults(&computed));
        out.push_str(&observed(&paths));
    }
    Ok(out)
}

/// The paths, each on a line, the hops they share with the line above left blank.
fn draw(paths: &[&DrawnPath]) -> String {
    const INDENT: &str = "     ";
    const SEPARATOR: &str = " -- ";
    let mut out = String::new();
    let mut previous: Vec<String> = Vec::new();
    for path in paths {
        let labels = path.labels();
        let shared = labels
            .iter()
            .zip(&previous)
            .take_while(|(a, b)| a == b)
            .count()
            .min(labels.len().saturating_sub(1));
        let mut line = String::from(INDENT);
        if shared == 0 {
            line.push_str(&labels.join(SEPARATOR));
        } else {
            let blank: usize = labels[..shared]
                .iter()
                .map(|l| l.chars().count())
                .sum::<usize>()
                + SEPARATOR.len() * (shared - 1);
            line.push_str(&" ".repeat(blank));
            line.push_str(SEPARATOR);
            line.push_str(&labels[shared..].join(SEPARATOR));
        }
        out.push_str(line.trim_end());
        out.push('\n');
        previous = labels;
    }
    out
}

fn detail_table(paths: &[&DrawnPath]) -> String {
    let headers: Vec<String> = [
        "Id", "Hop", "Hostname", "InPort", "OutPort", "VRF", "VLAN", "MTU", "Tunnel", "Fault",
    ]
    .map(String::from)
    .to_vec();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let number = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut rows = Vec::new();
    for (p, path) in paths.iter().enumerate() {
        for (h, hop) in path.hops.iter().enumerate() {
            let fault = hop.error.clone().or_else(|| hop.warning.clone());
            rows.push(vec![
                (p + 1).to_string(),
                (h + 1).to_string(),
                hop.hostname.clone(),
                text(&hop.in_ifname),
                text(&hop.out_ifname),
                text(&hop.vrf),
                number(hop.vlan),
                number(hop.mtu.or(hop.in_mtu)),
                text(&hop.tunnel),
                fault.unwrap_or_default(),
            ]);
        }
    }
    crate::output::layout(&headers, &rows, "  ")
}

/// `Path 3: error: spine01:swp3 is down`, for every path with a fault.
fn faults(paths: &[&DrawnPath]) -> String {
    let mut out = String::new();
    for (p, path) in paths.iter().enumerate() {
        for hop in &path.hops {
            for (kind, message) in [("error", &hop.error), ("warning", &hop.warning)] {
                if let Some(message) = message {
                    out.push_str(&format!("Path {}: {kind}: {message}\n", p + 1));
                }
            }
        }
    }
    out
}

/// What INT reports showed of the flow beside the computed paths.
fn observed(paths: &[DrawnPath]) -> String {
    if paths.iter().all(|p| p.observed.is_none() && p.computed) {
        return String::new();
    }
    let mut out = String::from("Observed by INT:\n");
    let switches = |p: &DrawnPath| {
        let inner = p.hops.len().saturating_sub(1);
        p.hops
            .iter()
            .take(if p.computed { inner } else { p.hops.len() })
            .skip(usize::from(p.computed))
            .map(|h| h.hostname.clone())
            .collect::<Vec<_>>()
            .join(" -- ")
    };
    let mut computed = 0;
    for path in paths {
        if path.computed {
            computed += 1;
        }
        let (label, note) = match (path.computed, path.observed) {
            (true, Some(true)) => (format!("Path {computed}"), "computed and observed"),
            (true, _) => (format!("Path {computed}"), "computed, never observed"),
            (false, _) => ("Observed".to_string(), "observed, not computed"),
        };
        out.push_str(&format!("  {label}: {}  ({note})\n", switches(path)));
    }
    out
}

/// JSON: `{"paths": [[hop, …], …], "summary": {…}}`, with `"observed"` when INT reported the
/// flow and `"reverse"` for `bidir`; each hop on one line.
pub(crate) fn render_json(batches: &[RecordBatch]) -> Result<String> {
    let mut forward = None;
    let mut reverse = None;
    for (direction, paths) in read(batches)? {
        let object = direction_json(&paths, if direction == "forward" { "" } else { "  " });
        if direction == "forward" {
            forward = Some(object);
        } else {
            reverse = Some(object);
        }
    }
    let mut out = forward.unwrap_or_else(|| direction_json(&[], ""));
    if let Some(reverse) = reverse {
        out.truncate(out.trim_end().len() - 1);
        out.push_str(&format!(",\n  \"reverse\": {}\n}}", reverse.trim_end()));
    }
    Ok(out)
}

fn direction_json(paths: &[DrawnPath], indent: &str) -> String {
    let s = summary(paths);
    let computed: Vec<&DrawnPath> = paths.iter().filter(|p| p.computed).collect();
    let path_lines: Vec<String> = computed
        .iter()
        .map(|p| {
            let hops: Vec<String> = p
                .hops
                .iter()
                .map(|h| format!("{indent}      {}", hop_json(h)))
                .collect();
            format!("{indent}    [\n{}\n{indent}    ]", hops.join(",\n"))
        })
        .collect();
    let paths_text = if path_lines.is_empty() {
        "[]".to_string()
    } else {
        format!("[\n{}\n{indent}  ]", path_lines.join(",\n"))
    };
    let summary = json!({
        "numberOfPaths": s.paths,
        "numberOfPathsWithErrors": s.errors,
        "numberOfPathsWithWarnings": s.warnings,
        "pathMtu": s.mtu,
    });
    let mut fields = vec![
        format!("{indent}  \"paths\": {paths_text}"),
        format!("{indent}  \"summary\": {summary}"),
    ];
    if paths.iter().any(|p| p.observed.is_some() || !p.computed) {
        let observed: Vec<Option<bool>> = computed.iter().map(|p| p.observed).collect();
        let only: Vec<Vec<&str>> = paths
            .iter()
            .filter(|p| !p.computed)
            .map(|p| p.hops.iter().map(|h| h.hostname.as_str()).collect())
            .collect();
        fields.push(format!("{indent}  \"observed\": {}", json!(observed)));
        fields.push(format!(
            "{indent}  \"observedNotComputed\": {}",
            json!(only)
        ));
    }
    format!("{{\n{}\n{indent}}}", fields.join(",\n"))
}

/// One hop as a one-line object, keys in a fixed order.
fn hop_json(h: &Row) -> String {
    let pairs: [(&str, Json); 10] = [
        ("hostname", json!(h.hostname)),
        ("inIfname", json!(h.in_ifname)),
        ("outIfname", json!(h.out_ifname)),
        ("vrf", json!(h.vrf)),
        ("vlan", json!(h.vlan)),
        ("inMtu", json!(h.in_mtu)),
        ("mtu", json!(h.mtu)),
        ("tunnel", json!(h.tunnel)),
        ("error", json!(h.error)),
        ("warning", json!(h.warning)),
    ];
    let fields: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("\"{key}\": {value}"))
        .collect();
    format!("{{{}}}", fields.join(", "))
}
