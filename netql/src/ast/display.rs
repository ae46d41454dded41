//! Canonical NetQL text for every node of the tree: what `parse` reads back into an equal tree.

use std::fmt::{self, Display, Formatter};
use std::time::Duration;

use super::*;

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Query(query) => query.fmt(f),
            Statement::Explain(explain) => explain.fmt(f),
        }
    }
}

impl Display for Explain {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "explain {}", self.query)
    }
}

/// A `select`'s window goes right after its table (`select … from bgp between 2d and 1d where …`)
/// and its `around` at the end; every other command's time goes after the command, before its
/// `where`.
impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(hosts) = &self.hosts {
            write!(f, "{hosts} ")?;
        }
        let time = self
            .time
            .as_ref()
            .map(|time| format!(" {time}"))
            .unwrap_or_default();
        match &self.command {
            Command::Select(select) => {
                select.fmt_head(f)?;
                let between = matches!(self.time, Some(TimeClause::Between(_)));
                if between {
                    f.write_str(&time)?;
                }
                select.fmt_tail(f)?;
                if !between {
                    f.write_str(&time)?;
                }
            }
            command => {
                write!(f, "{command}{time}")?;
                if let Some(filter) = command.filter() {
                    write!(f, " where {filter}")?;
                }
            }
        }
        if self.json {
            f.write_str(" json")?;
        }
        Ok(())
    }
}

impl Display for Hosts {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_separated(f, &self.patterns, ",")
    }
}

impl Display for HostPattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Command::Check(c) => c.fmt(f),
            Command::Show(c) => c.fmt(f),
            Command::ShowChanges(c) => c.fmt(f),
            Command::ShowEvents(c) => c.fmt(f),
            Command::ShowTables(c) => c.fmt(f),
            Command::Describe(c) => c.fmt(f),
            Command::Trace(c) => c.fmt(f),
            Command::Select(c) => {
                c.fmt_head(f)?;
                c.fmt_tail(f)
            }
        }
    }
}

impl Display for Family {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl Display for Check {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "check {}", self.family)
    }
}

impl Display for Show {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "show {}", self.family)?;
        if let Some(target) = &self.target {
            write!(f, " {target}")?;
        }
        for filter in &self.filters {
            write!(f, " {filter}")?;
        }
        if self.changes {
            f.write_str(" changes")?;
        }
        Ok(())
    }
}

/// `vrf default` for a match, `latency > 1000` for any other comparison.
impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.op {
            CompareOp::Eq => write!(f, "{} {}", self.field, self.value),
            op => write!(f, "{} {op} {}", self.field, self.value),
        }
    }
}

impl Display for ShowChanges {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("show changes")?;
        if let Some(family) = &self.family {
            write!(f, " type {family}")?;
        }
        Ok(())
    }
}

impl Display for ShowEvents {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("show events")?;
        if let Some(family) = &self.family {
            write!(f, " type {family}")?;
        }
        if let Some(level) = &self.level {
            write!(f, " level {level}")?;
        }
        Ok(())
    }
}

impl Display for Severity {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for Level {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.severity.fmt(f)
    }
}

impl Display for ShowTables {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("show tables")
    }
}

impl Display for Describe {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "describe {}", self.table)
    }
}

impl Display for Trace {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "trace {} from {}", self.destination, self.source)?;
        if let Some(vrf) = &self.vrf {
            write!(f, " vrf {vrf}")?;
        }
        if let Some(vlan) = &self.vlan {
            write!(f, " vlan {vlan}")?;
        }
        if self.detail {
            f.write_str(" detail")?;
        }
        if self.bidir {
            f.write_str(" bidir")?;
        }
        Ok(())
    }
}

impl Select {
    fn fmt_head(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("select ")?;
        write_separated(f, &self.items, ", ")?;
        write!(f, " from {}", self.table)
    }

    fn fmt_tail(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(filter) = &self.filter {
            write!(f, " where {filter}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" group by ")?;
            write_separated(f, &self.group_by, ", ")?;
        }
        if let Some(having) = &self.having {
            write!(f, " having {having}")?;
        }
        if !self.order_by.is_empty() {
            f.write_str(" order by ")?;
            write_separated(f, &self.order_by, ", ")?;
        }
        if let Some(limit) = &self.limit {
            write!(f, " limit {limit}")?;
        }
        if let Some(offset) = &self.offset {
            write!(f, " offset {offset}")?;
        }
        Ok(())
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SelectItemKind::All => f.write_str("*"),
            SelectItemKind::Expr { expr, alias } => {
                expr.fmt(f)?;
                if let Some(alias) = alias {
                    write!(f, " as {alias}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Display for OrderKey {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)?;
        if self.descending {
            f.write_str(" desc")?;
        }
        Ok(())
    }
}

impl Display for Name {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Display for Number {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl Display for ValueKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ValueKind::Number(n) => n.fmt(f),
            ValueKind::Ip(addr) => addr.fmt(f),
            ValueKind::Prefix { addr, len } => write!(f, "{addr}/{len}"),
            ValueKind::Mac(bytes) => write_mac(f, bytes),
            ValueKind::Glob(text) | ValueKind::Word(text) => f.write_str(text),
            ValueKind::Str(text) => write_quoted(f, text),
        }
    }
}

impl Display for TimeClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TimeClause::Around(around) => around.fmt(f),
            TimeClause::Between(between) => between.fmt(f),
        }
    }
}

impl Display for Around {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "around {}", self.at)
    }
}

impl Display for Between {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "between {} and {}", self.from, self.to)
    }
}

impl Display for When {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WhenKind::Now => f.write_str("now"),
            WhenKind::Ago(duration) => write_duration(f, *duration),
            WhenKind::At(micros) => write_instant(f, *micros),
        }
    }
}

fn write_separated<T: Display>(f: &mut Formatter<'_>, items: &[T], separator: &str) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

fn write_mac(f: &mut Formatter<'_>, bytes: &[u8; 6]) -> fmt::Result {
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}

/// Double-quotes `text`, escaping `"` and `\` with a backslash.
fn write_quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// Whole seconds in the largest units first: `1w1d`, `1d4h`, `90s` as `1m30s`; zero as `0s`.
fn write_duration(f: &mut Formatter<'_>, duration: Duration) -> fmt::Result {
    const UNITS: [(&str, u64); 5] = [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    ];
    let mut secs = duration.as_secs();
    if secs == 0 {
        return f.write_str("0s");
    }
    for (unit, size) in UNITS {
        if secs >= size {
            write!(f, "{}{unit}", secs / size)?;
            secs %= size;
        }
    }
    Ok(())
}

/// RFC 3339 in UTC with as many fraction digits as needed: `2026-11-20T10:00:00Z`. The parser
/// only makes instants chrono can print; one built by hand beyond them prints as its µs count.
fn write_instant(f: &mut Formatter<'_>, micros: i64) -> fmt::Result {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(time) => f.write_str(&time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        None => write!(f, "{micros}"),
    }
}
