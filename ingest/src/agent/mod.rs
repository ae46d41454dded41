//! The agent: collectors turn a node's state into rows, `SentState` keeps only the differences,
//! the spool makes them durable on the node, and the sender streams them to every server.

pub mod frr;
pub mod lldp;
pub mod netlink;
pub mod row;
pub mod state;
pub mod system;
