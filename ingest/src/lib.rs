//! Sonde's collectors: the `sonde-agent` that streams a node's network state (netlink, FRR, lldpd,
//! sensors, …) to the server as changes over Arrow Flight DoPut, and the receiver that decodes
//! switches' INT telemetry reports. Rows are built against the schemas of `sonde-schema`; this crate
//! must never link DataFusion, so that the agent stays small.

pub mod agent;
pub mod error;
pub mod int;
#[doc(hidden)]
pub mod testing;

pub use error::{Error, Result};
