//! lldpd through `lldpcli -f json0 show neighbors`: the neighbour seen on each port.
//! (`json0` always gives lists, where plain `json` turns a single neighbour into an object.)

use serde_json::Value as Json;
use sonde_schema::TableDef;
use sonde_schema::families::lldp;
use sonde_schema::row::Row;

use super::command::Tool;
use crate::error::Result;

/// Tables this collector fills.
pub const TABLES: &[&TableDef] = &[&lldp::TABLE];

/// The LLDP neighbours lldpd knows at `now` (µs).
pub async fn collect(lldpcli: &Tool, now: i64) -> Result<Vec<Row>> {
    let json = lldpcli.json(&["-f", "json0", "show", "neighbors"]).await?;
    Ok(neighbor_rows(&json, now))
}

/// Rows from json0 output: `{"lldp":[{"interface":[{name, chassis:[…], port:[…]}]}]}`.
pub fn neighbor_rows(json: &Json, now: i64) -> Vec<Row> {
    let interfaces = first(json, "lldp")
        .and_then(|l| l.get("interface"))
        .and_then(Json::as_array);
    let Some(interfaces) = interfaces else {
        return Vec::new();
    };
    interfaces
        .iter()
        .filter_map(|interface| {
            let ifname = interface.get("name")?.as_str()?;
            let chassis = first(interface, "chassis");
            let port = first(interface, "port");
            Some(
                Row::new(&lldp::TABLE, now)
                    .set("ifname", ifname)
                    .set("peer_hostname", chassis.and_then(|c| value(c, "name")))
                    .set("peer_ifname", port.and_then(|p| value(p, "id")))
                    .set("peer_mgmt_ip", chassis.and_then(|c| value(c, "mgmt-ip")))
                    .set("peer_chassis_id", chassis.and_then(|c| value(c, "id")))
                    .set("peer_description", chassis.and_then(|c| value(c, "descr"))),
            )
        })
        .collect()
}

/// The first element of the list under `key`.
fn first<'a>(json: &'a Json, key: &str) -> Option<&'a Json> {
    json.get(key)?.as_array()?.first()
}

/// The `value` of the first element under `key`: json0 wraps every leaf as `[{"value": …}]`.
fn value(json: &Json, key: &str) -> Option<String> {
    first(json, key)?.get("value")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonde_schema::row::Value;

    #[test]
    fn reads_json0_neighbours() {
        let json: Json = serde_json::from_str(
            r#"{"lldp":[{"interface":[{"name":"swp51","via":"LLDP",
                "chassis":[{"id":[{"type":"mac","value":"aa:bb:cc:00:00:01"}],"name":[{"value":"spine01"}],
                            "descr":[{"value":"Debian GNU/Linux 12"}],"mgmt-ip":[{"value":"192.168.200.21"}]}],
                "port":[{"id":[{"type":"ifname","value":"swp1"}],"descr":[{"value":"swp1"}]}]}]}]}"#,
        )
        .expect("json");
        let rows = neighbor_rows(&json, 5);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].get("peer_hostname"), Some(&Value::from("spine01")));
        assert_eq!(rows[0].get("peer_ifname"), Some(&Value::from("swp1")));
        assert_eq!(
            rows[0].get("peer_chassis_id"),
            Some(&Value::from("aa:bb:cc:00:00:01"))
        );
        assert!(neighbor_rows(&serde_json::json!({"lldp": [{}]}), 5).is_empty());
    }
}
