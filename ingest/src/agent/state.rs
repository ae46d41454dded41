//! What the agent last sent, so that it sends only differences.

use std::collections::HashMap;

use sonde_schema::TableDef;

use super::row::{Row, Value};

/// The last row sent for every object, per table.
#[derive(Debug, Default)]
pub struct SentState {
    tables: HashMap<&'static str, HashMap<Vec<Value>, Row>>,
}

impl SentState {
    /// Compares a full snapshot of the `scope` tables with what was sent: returns the new and
    /// changed rows, and a deletion (at `now`) for every object of those tables that is gone.
    pub fn resync(&mut self, scope: &[&'static TableDef], rows: Vec<Row>, now: i64) -> Vec<Row> {
        let mut seen: HashMap<&'static str, std::collections::HashSet<Vec<Value>>> =
            scope.iter().map(|t| (t.name, Default::default())).collect();
        let mut changes = Vec::new();
        for row in rows {
            seen.entry(row.table.name)
                .or_default()
                .insert(row.key().to_vec());
            changes.extend(self.observe(row));
        }
        for table in scope {
            let Some(sent) = self.tables.get_mut(table.name) else {
                continue;
            };
            let present = &seen[table.name];
            let gone: Vec<Vec<Value>> = sent
                .keys()
                .filter(|k| !present.contains(*k))
                .cloned()
                .collect();
            for key in gone {
                if let Some(last) = sent.remove(&key) {
                    changes.push(last.deleted(now));
                }
            }
        }
        changes
    }

    /// One observed object (or, with `active = false`, its deletion): returns it when it
    /// differs from what was sent for that object.
    pub fn observe(&mut self, row: Row) -> Option<Row> {
        let sent = self.tables.entry(row.table.name).or_default();
        let key = row.key().to_vec();
        if !row.active {
            return sent.remove(&key).map(|last| Row {
                time: row.time,
                ..last.deleted(row.time)
            });
        }
        match sent.get(&key) {
            Some(last) if !row.differs_from(last) => None,
            _ => {
                sent.insert(key, row.clone());
                Some(row)
            }
        }
    }

    /// Objects currently held for `table`.
    pub fn len(&self, table: &TableDef) -> usize {
        self.tables.get(table.name).map_or(0, HashMap::len)
    }

    pub fn is_empty(&self) -> bool {
        self.tables.values().all(HashMap::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use sonde_schema::families::interfaces;

    use super::*;

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
        assert_eq!(changed[1].get("mtu"), Some(&Value::U32(9216)));
        assert_eq!(
            state
                .observe(link("swp1", 1500, 4).deleted(4))
                .map(|r| r.active),
            Some(false)
        );
        assert_eq!(
            state.observe(link("swp1", 1500, 5).deleted(5)),
            None,
            "already gone"
        );
        assert_eq!(state.len(&interfaces::TABLE), 0);
    }
}
