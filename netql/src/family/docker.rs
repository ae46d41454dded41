//! `show docker`: containers, every column by name.

use super::{FamilyDef, ShowDef};

pub(super) static FAMILY: FamilyDef = FamilyDef {
    name: "docker",
    show: Some(ShowDef::of("docker", Some("name"))),
    check: None,
};
