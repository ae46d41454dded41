//! Integration tests of the whole binary and the engine: real sockets, real readers.

mod common;
#[path = "common/fabric.rs"]
mod fabric;
#[path = "common/netns.rs"]
mod netns;

mod agent_lab;
mod bad_input;
mod crash;
mod demo;
mod flight;
mod int_collector;
mod netql_cli;
mod netql_errors;
mod netql_parse;
mod netql_plans;
mod netql_roundtrip;
mod netql_select;
mod readers;
mod s3;
mod time_travel;
mod ztp;
