//! `show kubernetes`: pods, every column by name.

use super::{FamilyDef, ShowDef};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "kubernetes",
    show: Some(ShowDef::of("kubernetes", Some("pod"))),
    check: None,
};
