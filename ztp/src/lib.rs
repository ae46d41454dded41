//! Sonde's zero-touch provisioning: a DHCPv4 server and an HTTP image/configuration server for
//! switches that boot through ONIE, Cumulus' or SONiC's ZTP or RtBrick's CTRLD, configured by the
//! files an operator already has (isc-dhcp's `dhcpd.conf`, the seed's `config.db`, `configs/`,
//! `images/`), and a GELF receiver for the devices' own business events.
//!
//! Every DHCP exchange and HTTP request becomes a row of the `ztp_*` tables (the schema crate's
//! `families::ztp`), handed to an [`events::EventStore`] the caller provides: this crate knows
//! neither the engine nor NetQL. Leases are events too: a lease change is appended and durable
//! before the DHCP answer that grants it goes out ([`leases::LeaseLog`]), and the lease table at
//! start-up is the state of `ztp_leases` at now.
//!
//! Servers follow the workspace's shape: bound by the caller, then `run(socket, shutdown)`.
//! Configuration ([`config::ZtpConfig`]) is read from a [`ZtpDir`] and re-read when its files
//! change ([`config::Watched`]); a file that fails to parse keeps the previous configuration and
//! is reported with its file, line and token.

pub mod admin;
pub mod codes;
pub mod config;
pub mod dhcp;
mod dir;
mod error;
pub mod events;
pub mod gelf;
pub mod http;
pub mod leases;

pub use dir::ZtpDir;
pub use error::{Result, ZtpError};
