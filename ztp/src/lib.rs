//! Sonde's zero-touch provisioning: a DHCPv4 server and an HTTP server that hand new switches their
//! images and configurations. Every access becomes an event in the `ztp_dhcp` and `ztp_http` tables.
