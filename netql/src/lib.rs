//! NetQL: the language operators type, compiled to DataFusion plans over the engine's tables,
//! and the output formats its answers are printed in.
//!
//! This crate sees only DataFusion and Arrow, never the engine's storage. Today it holds the pieces
//! every front end shares: NetQ-style aligned tables and µs-timestamp JSON ([`output`]), and the
//! durations and instants of `around`/`between` ([`time`]).

pub mod output;
pub mod time;
