//! Tests of the DHCP server through `handle()`.
