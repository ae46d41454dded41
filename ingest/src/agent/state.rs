//! What the agent last sent, so that it sends only differences.
//!
//! Only a fingerprint of each object's last row is kept, under its key packed into bytes (a node
//! with 100k routes would otherwise hold every row twice); a deletion therefore carries the
//! object's key and `active = false`.

use std::collections::HashMap;
use std::hash::BuildHasher;

use sonde_schema::TableDef;
use sonde_schema::row::{Row, Value};

/// A fingerprint of the last row sent for every object, per table, and the resync that last saw it.
#[derive(Debug, Default)]
pub struct SentState {
    tables: HashMap<&'static str, HashMap<Box<[u8]>, Seen>>,
    hasher: std::collections::hash_map::RandomState,
    generation: u32,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    fingerprint: u64,
    generation: u32,
    /// Time of the last row sent: a change is never stamped before it, or the older row would
    /// win (a session's uptime-corrected time can fall before the poll that saw it down).
    time: i64,
}

impl SentState {
    /// Compares a full snapshot of the `scope` tables with what was sent: returns the new and
    /// changed rows, and a deletion (at `now`) for every object of those tables that is gone.
    pub fn resync(
        &mut self,
        scope: &[&'static TableDef],
        rows: impl IntoIterator<Item = Row>,
        now: i64,
    ) -> Vec<Row> {
        self.begin_resync();
        let mut changes: Vec<Row> = rows.into_iter().filter_map(|r| self.observe(r)).collect();
        changes.extend(self.end_resync(scope, now));
        changes
    }

    /// Starts a snapshot that arrives in pieces through `observe`; `end_resync` closes it.
    pub fn begin_resync(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Deletions for the objects of `scope` that the snapshot since `begin_resync` did not hold.
    pub fn end_resync(&mut self, scope: &[&'static TableDef], now: i64) -> Vec<Row> {
        let mut deletions = Vec::new();
        for table in scope {
            let Some(sent) = self.tables.get_mut(table.name) else {
                continue;
            };
            let generation = self.generation;
            sent.retain(|key, seen| {
                let present = seen.generation == generation;
                if !present {
                    deletions.push(deletion(table, unpack(key), now.max(seen.time + 1)));
                }
                present
            });
        }
        deletions
    }

    /// One observed object (or, with `active = false`, its deletion): returns it when it
    /// differs from what was sent for that object.
    pub fn observe(&mut self, mut row: Row) -> Option<Row> {
        let fingerprint = self.fingerprint(&row);
        let generation = self.generation;
        let sent = self.tables.entry(row.table.name).or_default();
        let key = pack(row.key());
        if !row.active {
            let last = sent.remove(&key)?;
            row.time = row.time.max(last.time + 1);
            return Some(row);
        }
        match sent.get_mut(&key) {
            Some(last) if last.fingerprint == fingerprint => {
                last.generation = generation;
                None
            }
            Some(last) => {
                row.time = row.time.max(last.time + 1);
                *last = Seen {
                    fingerprint,
                    generation,
                    time: row.time,
                };
                Some(row)
            }
            None => {
                let seen = Seen {
                    fingerprint,
                    generation,
                    time: row.time,
                };
                sent.insert(key, seen);
                Some(row)
            }
        }
    }

    fn fingerprint(&self, row: &Row) -> u64 {
        self.hasher.hash_one(&row.values[row.table.keys.len()..])
    }

    /// Objects currently held for `table`.
    pub fn len(&self, table: &TableDef) -> usize {
        self.tables.get(table.name).map_or(0, HashMap::len)
    }
}

/// A key's values as bytes: a tag per value, then its payload.
fn pack(values: &[Value]) -> Box<[u8]> {
    let mut out = Vec::with_capacity(32);
    for value in values {
        match value {
            Value::Null => out.push(0),
            Value::Str(s) => {
                out.push(1);
                put_str(&mut out, s);
            }
            Value::Bool(b) => out.extend([2, u8::from(*b)]),
            Value::U32(v) => put_tagged(&mut out, 3, &v.to_le_bytes()),
            Value::U64(v) => put_tagged(&mut out, 4, &v.to_le_bytes()),
            Value::I64(v) => put_tagged(&mut out, 5, &v.to_le_bytes()),
            Value::Time(v) => put_tagged(&mut out, 6, &v.to_le_bytes()),
            Value::F64(v) => put_tagged(&mut out, 7, &v.to_bits().to_le_bytes()),
            Value::StrList(items) => {
                out.push(8);
                out.extend((items.len() as u32).to_le_bytes());
                items.iter().for_each(|s| put_str(&mut out, s));
            }
        }
    }
    out.into_boxed_slice()
}

fn put_tagged(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    out.push(tag);
    out.extend_from_slice(payload);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u32).to_le_bytes());
    out.extend(s.as_bytes());
}

/// The inverse of `pack` (only ever given what `pack` wrote).
fn unpack(bytes: &[u8]) -> Vec<Value> {
    let mut reader = Reader { bytes, at: 0 };
    let mut values = Vec::new();
    while let Some(tag) = reader.take(1).map(|b| b[0]) {
        let value = match tag {
            1 => reader.string().map(Value::Str),
            2 => reader.take(1).map(|b| Value::Bool(b[0] != 0)),
            3 => reader.array().map(|b| Value::U32(u32::from_le_bytes(b))),
            4 => reader.array().map(|b| Value::U64(u64::from_le_bytes(b))),
            5 => reader.array().map(|b| Value::I64(i64::from_le_bytes(b))),
            6 => reader.array().map(|b| Value::Time(i64::from_le_bytes(b))),
            7 => reader
                .array()
                .map(|b| Value::F64(f64::from_bits(u64::from_le_bytes(b)))),
            8 => reader.array().and_then(|n| {
                (0..u32::from_le_bytes(n))
                    .map(|_| reader.string())
                    .collect::<Option<Vec<_>>>()
                    .map(Value::StrList)
            }),
            _ => Some(Value::Null),
        };
        values.push(value.unwrap_or_default());
    }
    values
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(slice)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn string(&mut self) -> Option<String> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

/// The row that says an object of `table` with this key is gone.
fn deletion(table: &'static TableDef, key: Vec<Value>, now: i64) -> Row {
    let mut row = Row::new(table, now);
    row.active = false;
    for (slot, value) in row.values.iter_mut().zip(key) {
        *slot = value;
    }
    row
}

#[cfg(test)]
mod tests {
    use sonde_schema::families::interfaces;

    use super::*;

    fn gone(name: &str, time: i64) -> Row {
        Row {
            active: false,
            ..link(name, 0, time)
        }
    }

    fn link(name: &str, mtu: u32, time: i64) -> Row {
        Row::new(&interfaces::TABLE, time)
            .set("ifname", name)
            .set("mtu", mtu)
    }

    #[test]
    fn sends_only_differences_and_deletions() {
        let mut state = SentState::default();
        let scope = [&interfaces::TABLE];
        let first = state.resync(
            &scope,
            vec![link("swp1", 9216, 1), link("swp2", 9216, 1)],
            1,
        );
        assert_eq!(first.len(), 2);
        let same = state.resync(
            &scope,
            vec![link("swp1", 9216, 2), link("swp2", 9216, 2)],
            2,
        );
        assert!(same.is_empty(), "unchanged objects are not sent again");
        let changed = state.resync(&scope, vec![link("swp1", 1500, 3)], 3);
        assert_eq!(changed.len(), 2);
        assert_eq!(changed[0].get("mtu"), Some(&Value::U32(1500)));
        assert!(!changed[1].active, "swp2 disappeared");
        assert_eq!(changed[1].time, 3);
        assert_eq!(changed[1].get("ifname"), Some(&Value::from("swp2")));
        assert_eq!(
            state.observe(gone("swp1", 4)).map(|r| r.active),
            Some(false)
        );
        assert_eq!(state.observe(gone("swp1", 5)), None, "already gone");
        assert_eq!(state.len(&interfaces::TABLE), 0);
    }

    #[test]
    fn keys_pack_and_unpack() {
        let key = vec![
            Value::from("default"),
            Value::U32(10),
            Value::Null,
            Value::StrList(vec!["a".into(), String::new()]),
            Value::Time(-5),
            Value::Bool(true),
            Value::F64(1.5),
        ];
        assert_eq!(unpack(&pack(&key)), key);
    }

    #[test]
    fn a_change_is_never_stamped_before_the_row_it_replaces() {
        let mut state = SentState::default();
        state.observe(link("swp1", 9216, 100)).expect("new");
        let earlier = state.observe(link("swp1", 1500, 90)).expect("changed");
        assert_eq!(earlier.time, 101);
        assert_eq!(state.observe(gone("swp1", 50)).map(|r| r.time), Some(102));
    }
}
