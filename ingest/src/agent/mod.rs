//! The agent: collectors turn a node's state into rows, `SentState` keeps only the differences,
//! the spool makes them durable on the node, and one sender per server streams them.

pub mod command;
pub mod frr;
pub mod lldp;
pub mod netlink;
pub mod run;
pub mod sender;
pub mod spool;
pub mod state;
pub mod system;
