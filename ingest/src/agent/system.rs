//! The node itself: NTP state (chrony), sensors (hwmon in sysfs), services (the daemons running
//! in this node's network namespace), inventory (DMI, CPU, memory, disks, OS) and the agent's
//! heartbeat row.

use std::collections::BTreeSet;
use std::path::Path;

use sonde_schema::TableDef;
use sonde_schema::families::{inventory, ntp, sensors, services};
use sonde_schema::row::{Row, time};

use super::command::Tool;

/// Tables the polled system collectors fill (the heartbeat is sent apart, never diffed).
pub const TABLES: &[&TableDef] = &[
    &ntp::TABLE,
    &sensors::TABLE,
    &services::TABLE,
    &inventory::TABLE,
];

/// Daemons the agent watches, by process name, and the service name it reports.
const WATCHED: &[(&str, &str)] = &[
    ("zebra", "frr-zebra"),
    ("bgpd", "frr-bgpd"),
    ("ospfd", "frr-ospfd"),
    ("watchfrr", "frr"),
    ("lldpd", "lldpd"),
    ("chronyd", "chrony"),
    ("ntpd", "ntp"),
    ("systemd-timesyn", "systemd-timesyncd"),
    ("sshd", "ssh"),
    ("sonde-agent", "sonde-agent"),
];

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The NTP row: chrony's tracking when chronyc answers, otherwise "not synchronised".
pub async fn ntp_row(chronyc: &Tool, now: i64) -> Row {
    let row = Row::new(&ntp::TABLE, now);
    match chronyc.output(&["-c", "tracking"]).await {
        Ok(csv) => chrony_tracking(row, &csv),
        Err(_) => row.set("synced", false).set("service", "none"),
    }
}

/// `chronyc -c tracking`: ref id, source, stratum, ref time, offset, …, leap status (last).
fn chrony_tracking(row: Row, csv: &str) -> Row {
    let fields: Vec<&str> = csv.trim().split(',').collect();
    let stratum = fields.get(2).and_then(|s| s.parse::<u32>().ok());
    let leap = fields.last().copied().unwrap_or("");
    let synced = stratum.is_some_and(|s| s > 0 && s < 16) && leap != "Not synchronised";
    // Whole milliseconds: the offset wanders every poll, and only real drifts are changes.
    let offset = fields
        .get(4)
        .and_then(|s| s.parse::<f64>().ok())
        .map(|s| (s * 1000.0).round() / 1000.0);
    row.set("synced", synced)
        .set("service", "chrony")
        .set("source", fields.get(1).map(|s| s.to_string()))
        .set("stratum", stratum)
        .set("offset_s", offset)
}

/// Temperature, fan and power sensors from every hwmon device.
pub fn sensor_rows(hwmon: &Path, now: i64) -> Vec<Row> {
    let Ok(devices) = std::fs::read_dir(hwmon) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for device in devices.filter_map(|d| d.ok()).map(|d| d.path()) {
        let chip = read(device.join("name")).unwrap_or_else(|| "hwmon".into());
        let Ok(files) = std::fs::read_dir(&device) else {
            continue;
        };
        let mut inputs: Vec<String> = files
            .filter_map(|f| f.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with("_input"))
            .collect();
        inputs.sort();
        for input in inputs {
            let sensor = input.trim_end_matches("_input");
            if let Some(row) = sensor_row(&device, &chip, sensor, now) {
                rows.push(row);
            }
        }
    }
    rows
}

fn sensor_row(device: &Path, chip: &str, sensor: &str, now: i64) -> Option<Row> {
    let number = |suffix: &str| -> Option<f64> {
        read(device.join(format!("{sensor}_{suffix}")))?
            .parse::<f64>()
            .ok()
    };
    let (kind, unit, scale, step) = match sensor.trim_end_matches(|c: char| c.is_ascii_digit()) {
        "temp" => ("temp", "C", 1000.0, 1.0),
        "fan" => ("fan", "rpm", 1.0, 100.0),
        "power" => ("psu", "W", 1_000_000.0, 1.0),
        _ => return None,
    };
    let rounded = |v: f64| (v / scale / step).round() * step;
    let value = number("input").map(rounded)?;
    let max = number("max").map(rounded);
    let critical = number("crit").map(rounded);
    let (state, message) = if critical.is_some_and(|c| c > 0.0 && value >= c) {
        (
            "critical",
            Some(format!(
                "{sensor} at {value}{unit}, critical {}",
                critical.unwrap_or_default()
            )),
        )
    } else if max.is_some_and(|m| m > 0.0 && value >= m) {
        (
            "high",
            Some(format!(
                "{sensor} at {value}{unit}, above {}",
                max.unwrap_or_default()
            )),
        )
    } else if kind == "fan" && value == 0.0 {
        ("bad", Some(format!("{sensor} stopped")))
    } else {
        ("ok", None)
    };
    let label = read(device.join(format!("{sensor}_label")));
    Some(
        Row::new(&sensors::TABLE, now)
            .set("kind", kind)
            .set("name", format!("{chip}/{sensor}"))
            .set("description", label)
            .set("state", state)
            .set("value", value)
            .set("unit", unit)
            .set("max", max)
            .set("critical", critical)
            .set("message", message),
    )
}

/// Watches daemons through the process table. Only processes in the agent's own network
/// namespace count: on a host running several namespaces, each agent reports its own node.
#[derive(Debug, Default)]
pub struct Services {
    /// Services seen since the agent started: one that stops is reported inactive, not forgotten.
    seen: BTreeSet<&'static str>,
}

impl Services {
    pub fn rows(&mut self, proc: &Path, now: i64) -> Vec<Row> {
        let own_netns = std::fs::read_link(proc.join("self/ns/net")).ok();
        let boot = boot_time_us(proc).unwrap_or(0);
        let ticks = 100; // USER_HZ, fixed at 100 by the kernel's ABI on every Linux architecture.
        let mut running: Vec<(&'static str, u32, i64)> = Vec::new();
        for entry in std::fs::read_dir(proc)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
        {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            let dir = entry.path();
            let Some(comm) = read(dir.join("comm")) else {
                continue;
            };
            let Some(&(_, service)) = WATCHED.iter().find(|(process, _)| *process == comm) else {
                continue;
            };
            if own_netns.is_some() && std::fs::read_link(dir.join("ns/net")).ok() != own_netns {
                continue;
            }
            let started = read(dir.join("stat"))
                .and_then(|stat| start_ticks(&stat))
                .map(|t| boot + (t as i64) * 1_000_000 / ticks);
            if let Some(found) = running.iter_mut().find(|(s, _, _)| *s == service) {
                if pid < found.1 {
                    *found = (service, pid, started.unwrap_or(0));
                }
            } else {
                running.push((service, pid, started.unwrap_or(0)));
            }
        }
        self.seen.extend(running.iter().map(|(s, _, _)| *s));
        self.seen
            .iter()
            .map(|&service| {
                let found = running.iter().find(|(s, _, _)| *s == service);
                Row::new(&services::TABLE, now)
                    .set("name", service)
                    .set("vrf", "default")
                    .set(
                        "state",
                        if found.is_some() {
                            "active"
                        } else {
                            "inactive"
                        },
                    )
                    .set("monitored", true)
                    .set("pid", found.map(|f| f.1))
                    .set("started_at", found.map(|f| time(f.2)))
            })
            .collect()
    }
}

/// Field 22 of /proc/<pid>/stat (start time in clock ticks after boot); the command name in
/// field 2 may contain spaces and parentheses, so count from the last ')'.
fn start_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// When the node booted, from `btime` in /proc/stat.
pub fn boot_time_us(proc: &Path) -> Option<i64> {
    read(proc.join("stat"))?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<i64>()
        .ok()
        .map(|s| s * 1_000_000)
}

/// The OS's name and release, from os-release.
pub fn os_name() -> Option<String> {
    let text = read("/etc/os-release").or_else(|| read("/usr/lib/os-release"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
}

/// Platform, CPU, memory, disks and OS.
pub fn inventory_rows(now: i64) -> Vec<Row> {
    let dmi = Path::new("/sys/class/dmi/id");
    let mut rows = vec![
        Row::new(&inventory::TABLE, now)
            .set("component", "platform")
            .set("vendor", read(dmi.join("sys_vendor")))
            .set("model", read(dmi.join("product_name")))
            .set("version", read(dmi.join("product_version")))
            .set("serial", read(dmi.join("product_serial"))),
        cpu_row(now),
        Row::new(&inventory::TABLE, now)
            .set("component", "memory")
            .set("size_bytes", mem_total()),
        Row::new(&inventory::TABLE, now)
            .set("component", "os")
            .set("model", os_name())
            .set("version", read("/proc/sys/kernel/osrelease"))
            .set("arch", std::env::consts::ARCH),
    ];
    rows.extend(disk_rows(now));
    rows
}

fn cpu_row(now: i64) -> Row {
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == name).then(|| value.trim().to_string())
        })
    };
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    Row::new(&inventory::TABLE, now)
        .set("component", "cpu")
        .set("vendor", field("vendor_id"))
        .set("model", field("model name"))
        .set("arch", std::env::consts::ARCH)
        .set("cores", u32::try_from(cores).ok().filter(|&c| c > 0))
}

fn mem_total() -> Option<u64> {
    read("/proc/meminfo")?
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()
        .map(|kib| kib * 1024)
}

fn disk_rows(now: i64) -> Vec<Row> {
    let Ok(blocks) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let mut names: Vec<String> = blocks
        .filter_map(|b| b.ok()?.file_name().into_string().ok())
        .filter(|n| {
            !["loop", "ram", "zram", "dm-"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let dir = Path::new("/sys/block").join(&name);
            Row::new(&inventory::TABLE, now)
                .set("component", format!("disk:{name}"))
                .set("model", read(dir.join("device/model")))
                .set("vendor", read(dir.join("device/vendor")))
                .set(
                    "size_bytes",
                    read(dir.join("size"))
                        .and_then(|s| s.parse::<u64>().ok())
                        .map(|s| s * 512),
                )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonde_schema::row::Value;

    #[test]
    fn reads_chrony_tracking() {
        let row = chrony_tracking(
            Row::new(&ntp::TABLE, 1),
            "A9FEA9FE,169.254.169.254,3,1700000000.1,0.000012345,0.1,0.1,1,0,0,0.001,0.001,64.0,Normal\n",
        );
        assert_eq!(row.get("synced"), Some(&Value::Bool(true)));
        assert_eq!(row.get("stratum"), Some(&Value::U32(3)));
        assert_eq!(row.get("offset_s"), Some(&Value::F64(0.0)));
        let row = chrony_tracking(
            Row::new(&ntp::TABLE, 1),
            "00000000,,0,0,0,0,0,0,0,0,0,0,0,Not synchronised",
        );
        assert_eq!(row.get("synced"), Some(&Value::Bool(false)));
    }

    #[test]
    fn reads_hwmon_sensors_and_their_alarms() {
        let dir = tempfile::tempdir().expect("tempdir");
        let chip = dir.path().join("hwmon0");
        std::fs::create_dir(&chip).expect("mkdir");
        for (file, value) in [
            ("name", "coretemp"),
            ("temp1_input", "81500"),
            ("temp1_max", "80000"),
            ("temp1_crit", "100000"),
            ("temp1_label", "Package id 0"),
            ("fan2_input", "0"),
        ] {
            std::fs::write(chip.join(file), value).expect("write");
        }
        let rows = sensor_rows(dir.path(), 1);
        assert_eq!(rows.len(), 2);
        let fan = &rows[0];
        assert_eq!(fan.get("name"), Some(&Value::from("coretemp/fan2")));
        assert_eq!(fan.get("state"), Some(&Value::from("bad")));
        let temp = &rows[1];
        assert_eq!(temp.get("state"), Some(&Value::from("high")));
        assert_eq!(temp.get("value"), Some(&Value::F64(82.0)));
    }

    #[test]
    fn watches_daemons_of_its_own_network_namespace_only() {
        let proc = tempfile::tempdir().expect("tempdir");
        let root = proc.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        let netns = |path: &str, target: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::os::unix::fs::symlink(target, path).expect("symlink");
        };
        write("stat", "cpu 1 2 3\nbtime 1700000000\n");
        netns("self/ns/net", "net:[1]");
        for (pid, comm, ns) in [
            (10, "bgpd", "net:[1]"),
            (11, "lldpd", "net:[2]"),
            (12, "bash", "net:[1]"),
        ] {
            write(&format!("{pid}/comm"), comm);
            write(
                &format!("{pid}/stat"),
                &format!("{pid} ({comm}) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0"),
            );
            netns(&format!("{pid}/ns/net"), ns);
        }
        let mut services = Services::default();
        let rows = services.rows(root, 1);
        assert_eq!(
            rows.len(),
            1,
            "lldpd runs in another namespace, bash is not watched"
        );
        assert_eq!(rows[0].get("name"), Some(&Value::from("frr-bgpd")));
        assert_eq!(rows[0].get("state"), Some(&Value::from("active")));
        assert_eq!(rows[0].get("pid"), Some(&Value::U32(10)));
        assert_eq!(
            rows[0].get("started_at"),
            Some(&Value::Time(1_700_000_005_000_000))
        );

        std::fs::remove_dir_all(root.join("10")).expect("bgpd stops");
        let rows = services.rows(root, 2);
        assert_eq!(rows.len(), 1, "a service seen once stays reported");
        assert_eq!(rows[0].get("state"), Some(&Value::from("inactive")));
        assert_eq!(
            start_ticks("1 (a) b) S 1 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 4242 0"),
            Some(4242)
        );
    }
}
