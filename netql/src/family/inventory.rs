//! `show inventory`: each node's components, every column by name.

use super::{FamilyDef, ShowDef};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "inventory",
    show: Some(ShowDef::of("inventory", Some("component"))),
    check: None,
};
