//! The DHCPv4 server.
