//! One observed object as a producer holds it before it becomes a row of a record batch.
//!
//! Every producer (the agent's collectors, the simulator, the INT and ZTP collectors) builds rows
//! by column name against a table of this crate; the agent compares rows with what it sent last,
//! and [`to_batch`] turns rows into Arrow batches of the table's schema. [`Heartbeat`] is the
//! liveness row every agent sends.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder, UInt32Builder,
    UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch, TimestampMicrosecondArray};
use arrow_schema::ArrowError;

use crate::families::agents;
use crate::{ColumnDef, ColumnType, TableDef};

/// A column value. Floats compare by their bits so that rows can be compared for change.
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Str(String),
    Bool(bool),
    U32(u32),
    U64(u64),
    I64(i64),
    F64(f64),
    /// µs since the epoch, UTC.
    Time(i64),
    StrList(Vec<String>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Str(a), Str(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (U32(a), U32(b)) => a == b,
            (U64(a), U64(b)) => a == b,
            (I64(a), I64(b)) | (Time(a), Time(b)) => a == b,
            (F64(a), F64(b)) => a.to_bits() == b.to_bits(),
            (StrList(a), StrList(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null => {}
            Value::Str(s) => s.hash(state),
            Value::Bool(b) => b.hash(state),
            Value::U32(v) => v.hash(state),
            Value::U64(v) => v.hash(state),
            Value::I64(v) | Value::Time(v) => v.hash(state),
            Value::F64(v) => v.to_bits().hash(state),
            Value::StrList(v) => v.hash(state),
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::U32(v)
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::U64(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::StrList(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl Value {
    /// Whether a column of this type can hold the value (null fits any column).
    pub fn fits(&self, ty: ColumnType) -> bool {
        matches!(
            (self, ty),
            (Value::Null, _)
                | (Value::Str(_), ColumnType::Str)
                | (Value::Bool(_), ColumnType::Bool)
                | (Value::U32(_), ColumnType::U32)
                | (Value::U64(_), ColumnType::U64)
                | (Value::I64(_), ColumnType::I64)
                | (Value::F64(_), ColumnType::F64)
                | (Value::Time(_), ColumnType::Time)
                | (Value::StrList(_), ColumnType::StrList)
        )
    }
}

/// Now, in µs since the epoch: the unit of every row's time.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A µs timestamp as a value (`i64` alone would be ambiguous with a plain integer).
pub fn time(micros: i64) -> Value {
    Value::Time(micros)
}

/// One object of one table: its event time, its key and value columns, and whether it exists.
#[derive(Debug, Clone)]
pub struct Row {
    pub table: &'static TableDef,
    /// Event time in µs since the epoch.
    pub time: i64,
    /// The table's key columns then its value columns, in schema order.
    pub values: Vec<Value>,
    pub active: bool,
}

impl PartialEq for Row {
    fn eq(&self, other: &Self) -> bool {
        self.table.name == other.table.name
            && self.time == other.time
            && self.active == other.active
            && self.values == other.values
    }
}

impl Row {
    /// An empty (all null) active row of `table` observed at `time`.
    pub fn new(table: &'static TableDef, time: i64) -> Row {
        Row {
            table,
            time,
            values: vec![Value::Null; table.keys.len() + table.values.len()],
            active: true,
        }
    }

    /// Sets a column by name. Naming a column the table lacks is a bug in a collector: debug
    /// builds stop on it, release builds leave the row unchanged.
    pub fn set(mut self, column: &str, value: impl Into<Value>) -> Row {
        self.put(column, value);
        self
    }

    /// `set` on a row in place.
    pub fn put(&mut self, column: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.column_index(column) {
            Some(i) => {
                debug_assert!(
                    value.fits(self.column(i).ty),
                    "{}.{column} cannot hold {value:?}",
                    self.table.name
                );
                self.values[i] = value;
            }
            None => debug_assert!(false, "{} has no column {column}", self.table.name),
        }
    }

    fn column(&self, index: usize) -> &'static ColumnDef {
        let keys = self.table.keys;
        keys.get(index)
            .unwrap_or_else(|| &self.table.values[index - keys.len()])
    }

    /// The value of a column by name.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.column_index(column).map(|i| &self.values[i])
    }

    /// The key columns' values, which identify the object on its node.
    pub fn key(&self) -> &[Value] {
        &self.values[..self.table.keys.len()]
    }

    fn column_index(&self, column: &str) -> Option<usize> {
        self.table
            .keys
            .iter()
            .chain(self.table.values)
            .position(|c| c.name == column)
    }
}

/// Builds one record batch of `table`'s schema from rows of that table, all from `hostname`.
pub fn to_batch(
    table: &'static TableDef,
    hostname: &str,
    rows: &[Row],
) -> Result<RecordBatch, ArrowError> {
    to_batch_from_hosts(table, rows.iter().map(|_| hostname), rows)
}

/// Like `to_batch`, for rows from several nodes: `hostnames` gives each row's node, in order.
pub fn to_batch_from_hosts<'a>(
    table: &'static TableDef,
    hostnames: impl Iterator<Item = &'a str>,
    rows: &[Row],
) -> Result<RecordBatch, ArrowError> {
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(table.keys.len() + table.values.len() + 3);
    let times: TimestampMicrosecondArray = rows.iter().map(|r| Some(r.time)).collect();
    columns.push(Arc::new(times.with_timezone("UTC")));
    let mut hosts = StringBuilder::with_capacity(rows.len(), rows.len() * TYPICAL_HOSTNAME);
    hostnames.for_each(|host| hosts.append_value(host));
    columns.push(Arc::new(hosts.finish()));
    for (i, column) in table.keys.iter().chain(table.values).enumerate() {
        columns.push(build_column(column, rows, i));
    }
    columns.push(Arc::new(arrow_array::BooleanArray::from(
        rows.iter().map(|r| r.active).collect::<Vec<_>>(),
    )));
    RecordBatch::try_new(table.schema(), columns)
}

/// Bytes a hostname is given in a new batch's buffer before it grows.
const TYPICAL_HOSTNAME: usize = 16;

/// Column `i` of `rows`, in buffers sized for them: a builder's default capacity (1024 values)
/// made every small batch allocate and keep kilobytes per column.
fn build_column(column: &ColumnDef, rows: &[Row], i: usize) -> ArrayRef {
    let values = || rows.iter().map(move |r| &r.values[i]);
    let n = rows.len();
    let text_bytes = || {
        values()
            .map(|v| match v {
                Value::Str(s) => s.len(),
                Value::StrList(items) => items.iter().map(String::len).sum(),
                _ => 0,
            })
            .sum::<usize>()
    };
    // `$get` borrows the value out of the row: a string is copied once, into the array.
    macro_rules! build {
        ($builder:expr, $variant:ident, $get:expr) => {{
            let mut builder = $builder;
            for value in values() {
                match value {
                    Value::$variant(v) => builder.append_value($get(v)),
                    _ => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }};
    }
    match column.ty {
        ColumnType::Str => build!(
            StringBuilder::with_capacity(n, text_bytes()),
            Str,
            String::as_str
        ),
        ColumnType::Bool => build!(BooleanBuilder::with_capacity(n), Bool, |v: &bool| *v),
        ColumnType::U32 => build!(UInt32Builder::with_capacity(n), U32, |v: &u32| *v),
        ColumnType::U64 => build!(UInt64Builder::with_capacity(n), U64, |v: &u64| *v),
        ColumnType::I64 => build!(Int64Builder::with_capacity(n), I64, |v: &i64| *v),
        ColumnType::F64 => build!(Float64Builder::with_capacity(n), F64, |v: &f64| *v),
        ColumnType::Time => {
            let times: TimestampMicrosecondArray = values()
                .map(|v| match v {
                    Value::Time(t) => Some(*t),
                    _ => None,
                })
                .collect();
            Arc::new(times.with_timezone("UTC"))
        }
        ColumnType::StrList => {
            let items = values()
                .map(|v| match v {
                    Value::StrList(items) => items.len(),
                    _ => 0,
                })
                .sum();
            let mut builder =
                ListBuilder::with_capacity(StringBuilder::with_capacity(items, text_bytes()), n);
            for value in values() {
                match value {
                    Value::StrList(items) => {
                        items.iter().for_each(|s| builder.values().append_value(s));
                        builder.append(true);
                    }
                    _ => builder.append_null(),
                }
            }
            Arc::new(builder.finish())
        }
    }
}

/// What the heartbeat says about the agent.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    pub started: i64,
    pub boot: Option<i64>,
    pub os: Option<String>,
    pub interval_s: u32,
}

impl Heartbeat {
    pub fn row(&self, now: i64, ntp_synced: Option<bool>, last_resync: i64) -> Row {
        let ntp = match ntp_synced {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        Row::new(&agents::TABLE, now)
            .set("status", "Fresh")
            .set("version", env!("CARGO_PKG_VERSION"))
            .set("os", self.os.clone())
            .set("ntp_sync", ntp)
            .set("boot_time", self.boot.map(time))
            .set("agent_start_time", time(self.started))
            .set("reinit_time", time(last_resync))
            .set("heartbeat_interval_s", self.interval_s)
    }
}
