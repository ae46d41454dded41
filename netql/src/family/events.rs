//! The event tables shown as they are: the ZTP accesses. Their rows are events, not objects'
//! states, so `show` lists the window's rows, every column by name.

use super::{FamilyDef, ShowDef};

const fn events(table: &'static str) -> FamilyDef {
    FamilyDef {
        name: table,
        show: Some(ShowDef {
            events: true,
            ..ShowDef::of(table, None)
        }),
        check: None,
    }
}

pub(super) static ZTP_DHCP: FamilyDef = events("ztp_dhcp");
pub(super) static ZTP_HTTP: FamilyDef = events("ztp_http");
