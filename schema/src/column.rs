use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::{ACTIVE, HOSTNAME, TIMESTAMP};

/// The Arrow types Sonde's columns use, kept small so every reader (DuckDB, pandas, Spark) maps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Str,
    Bool,
    U32,
    U64,
    I64,
    F64,
    /// A point in time, µs since the epoch, UTC.
    Time,
    /// A list of strings (ECMP next hops, remote VTEPs, INT paths).
    StrList,
}

impl ColumnType {
    pub fn data_type(self) -> DataType {
        match self {
            ColumnType::Str => DataType::Utf8,
            ColumnType::Bool => DataType::Boolean,
            ColumnType::U32 => DataType::UInt32,
            ColumnType::U64 => DataType::UInt64,
            ColumnType::I64 => DataType::Int64,
            ColumnType::F64 => DataType::Float64,
            ColumnType::Time => timestamp_type(),
            ColumnType::StrList => {
                DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
            }
        }
    }
}

/// `Timestamp(µs, "UTC")`, the type of every time column.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// One column of a family: its name, type and a line for `describe`.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    pub name: &'static str,
    pub ty: ColumnType,
    pub doc: &'static str,
}

/// Shorthand used by the family modules.
pub const fn col(name: &'static str, ty: ColumnType, doc: &'static str) -> ColumnDef {
    ColumnDef { name, ty, doc }
}

/// One table: an event log keyed by `hostname` and `keys`, carrying `values`.
#[derive(Debug)]
pub struct TableDef {
    pub name: &'static str,
    pub doc: &'static str,
    pub keys: &'static [ColumnDef],
    pub values: &'static [ColumnDef],
    schema: OnceLock<SchemaRef>,
}

impl TableDef {
    pub const fn new(
        name: &'static str,
        doc: &'static str,
        keys: &'static [ColumnDef],
        values: &'static [ColumnDef],
    ) -> Self {
        TableDef {
            name,
            doc,
            keys,
            values,
            schema: OnceLock::new(),
        }
    }

    /// The table's Arrow schema: timestamp, hostname, keys (non-null), values (nullable), active.
    pub fn schema(&self) -> SchemaRef {
        self.schema
            .get_or_init(|| Arc::new(self.build_schema()))
            .clone()
    }

    fn build_schema(&self) -> Schema {
        let mut fields = Vec::with_capacity(self.keys.len() + self.values.len() + 3);
        fields.push(Field::new(TIMESTAMP, timestamp_type(), false));
        fields.push(Field::new(HOSTNAME, DataType::Utf8, false));
        fields.extend(
            self.keys
                .iter()
                .map(|c| Field::new(c.name, c.ty.data_type(), false)),
        );
        fields.extend(
            self.values
                .iter()
                .map(|c| Field::new(c.name, c.ty.data_type(), true)),
        );
        fields.push(Field::new(ACTIVE, DataType::Boolean, false));
        Schema::new(fields)
    }

    /// Columns that identify one object: `hostname` then the family's keys.
    pub fn key_columns(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(HOSTNAME).chain(self.keys.iter().map(|c| c.name))
    }

    /// The sort order of stored files: the key columns, then `timestamp`.
    pub fn sort_columns(&self) -> Vec<&'static str> {
        self.key_columns()
            .chain(std::iter::once(TIMESTAMP))
            .collect()
    }

    /// The documentation line of a column, including the frame columns.
    pub fn column_doc(&self, name: &str) -> Option<&'static str> {
        match name {
            TIMESTAMP => Some("event time, µs since the epoch, UTC"),
            HOSTNAME => Some("node that reported the object"),
            ACTIVE => Some("false when the object was deleted, withdrawn or went away"),
            _ => self
                .keys
                .iter()
                .chain(self.values)
                .find(|c| c.name == name)
                .map(|c| c.doc),
        }
    }
}
