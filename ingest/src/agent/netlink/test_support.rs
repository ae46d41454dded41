//! What the netlink tests share: attributes built by hand in the kernel's layout, links by name,
//! and rows looked up by key and read as text.

use sonde_schema::row::{Row, Value};

use super::attributes::align4;
use super::links::{Link, Links};

/// A netlink attribute: length, type, payload, padding.
pub(super) fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut bytes = Vec::new();
    bytes.extend(u16::try_from(len).expect("small attribute").to_ne_bytes());
    bytes.extend(kind.to_ne_bytes());
    bytes.extend(payload);
    bytes.resize(align4(len), 0);
    bytes
}

/// Links of the given ifindexes and names, with nothing else known.
pub(super) fn links_named(names: &[(u32, &str)]) -> Links {
    let mut links = Links::default();
    for (index, name) in names {
        let link = Link {
            index: *index,
            name: (*name).into(),
            ..Link::default()
        };
        links.by_index.insert(*index, link);
    }
    links
}

/// A value as text (what a key is compared with); empty for null.
pub(super) fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::Str(s)) => s.clone(),
        Some(Value::U32(n)) => n.to_string(),
        Some(Value::Null) | None => String::new(),
        Some(other) => format!("{other:?}"),
    }
}

/// A list column's items; panics if `column` is not a list.
pub(super) fn list(row: &Row, column: &str) -> Vec<String> {
    match row.get(column) {
        Some(Value::StrList(items)) => items.clone(),
        other => panic!("{column} is not a list: {other:?}"),
    }
}

/// The row of `table` whose key columns read `key`.
pub(super) fn find<'a>(rows: &'a [Row], table: &str, key: &[&str]) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.table.name == table
            && r.key().len() == key.len()
            && r.key().iter().zip(key).all(|(v, k)| text(Some(v)) == *k)
    })
}

/// Like [`find`], panicking when there is no such row.
pub(super) fn row<'a>(rows: &'a [Row], table: &str, key: &[&str]) -> &'a Row {
    find(rows, table, key).unwrap_or_else(|| panic!("no {table} row {key:?}"))
}
