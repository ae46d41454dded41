//! The catalogue: one module per family.

pub mod addresses;
pub mod agents;
pub mod bgp;
pub mod clag;
pub mod docker;
pub mod events;
pub mod evpn;
pub mod int;
pub mod interfaces;
pub mod inventory;
pub mod kubernetes;
pub mod license;
pub mod lldp;
pub mod lnv;
pub mod macs;
pub mod neighbors;
pub mod ntp;
pub mod ospf;
pub mod routes;
pub mod sensors;
pub mod services;
pub mod vlan;
pub mod vxlan;
pub mod ztp;

use crate::TableDef;

/// Every table Sonde stores, in the order `show tables` lists them.
pub static ALL_TABLES: &[&TableDef] = &[
    &agents::TABLE,
    &interfaces::TABLE,
    &addresses::TABLE,
    &routes::TABLE,
    &neighbors::TABLE,
    &macs::TABLE,
    &lldp::TABLE,
    &bgp::TABLE,
    &ospf::TABLE,
    &clag::TABLE,
    &evpn::TABLE,
    &vxlan::TABLE,
    &vlan::TABLE,
    &ntp::TABLE,
    &sensors::TABLE,
    &services::TABLE,
    &inventory::TABLE,
    &license::TABLE,
    &docker::TABLE,
    &kubernetes::TABLE,
    &lnv::TABLE,
    &int::REPORTS,
    &int::HOPS,
    &int::DROPS,
    &int::CONGESTION,
    &int::LOSS,
    &int::ERRORS,
    &ztp::DHCP,
    &ztp::HTTP,
    &ztp::LEASES,
    &ztp::EVENTS,
    &events::TABLE,
];

/// Looks a table up by name.
pub fn table(name: &str) -> Option<&'static TableDef> {
    ALL_TABLES.iter().copied().find(|t| t.name == name)
}
