//! ZTP, one module per table: every DHCP exchange and every HTTP request of a provisioning
//! switch as an event, the leases the DHCP server holds, and the business events (the seed's
//! GELF messages, ZTP0011I…ZTP0043E) the server derives from what it served and the devices
//! send themselves.
//!
//! The frame's `hostname` of the access tables (`ztp_dhcp`, `ztp_http`, `ztp_events`) is the
//! device as the server knows it: the host name its reservation or request gives, else its
//! serial number, else its MAC (DHCP) or address (HTTP). `ztp_leases` rows stand under the
//! DHCP server's identifier (option 54), so a lease keeps one key, its address, whatever the
//! device is called.

mod dhcp;
mod events;
mod http;
mod leases;

pub use dhcp::DHCP;
pub use events::EVENTS;
pub use http::HTTP;
pub use leases::LEASES;

/// The seed's GELF severities (RFC 5424), by level.
pub const LEVELS: [&str; 8] = [
    "Emergency",
    "Alert",
    "Critical",
    "Error",
    "Warning",
    "Notice",
    "Informational",
    "Debug",
];
