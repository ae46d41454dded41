//! Integration tests of the whole binary and the engine: real sockets, real readers.

mod common;

mod bad_input;
mod crash;
mod flight;
mod readers;
mod s3;
mod time_travel;
