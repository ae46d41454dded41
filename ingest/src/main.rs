//! sonde-agent (being written)
fn main() {}
