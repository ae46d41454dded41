//! The event tables shown as they are: INT reports and ZTP accesses. Their rows are events, not
//! objects' states, so `show` lists the window's rows, every column by name.

use super::{FamilyDef, ShowDef};

const fn events(table: &'static str) -> FamilyDef {
    FamilyDef {
        name: table,
        show: ShowDef {
            events: true,
            ..ShowDef::of(table, None)
        },
        check: None,
    }
}

pub(super) static INT_REPORTS: FamilyDef = events("int_reports");
pub(super) static INT_HOPS: FamilyDef = events("int_hops");
pub(super) static INT_DROPS: FamilyDef = events("int_drops");
pub(super) static INT_CONGESTION: FamilyDef = events("int_congestion");
pub(super) static INT_LOSS: FamilyDef = events("int_loss");
pub(super) static INT_ERRORS: FamilyDef = events("int_errors");
pub(super) static ZTP_DHCP: FamilyDef = events("ztp_dhcp");
pub(super) static ZTP_HTTP: FamilyDef = events("ztp_http");
