//! isc-dhcp's `dhcpd.conf`, the part a ZTP server needs, read so an operator's file from an
//! isc-dhcp setup works unchanged (the seed's file is the first test).
//!
//! What is read: `authoritative;` / `not authoritative;`, the lease times, `ping-check`,
//! `next-server`, `filename`, `server-identifier`, `option NAME code N = TYPE;` declarations
//! (text, string, ip-address, array of ip-address, unsigned integer 8/16/32, signed integer
//! 32, boolean), `option NAME VALUE;` with isc's names ([`builtin_options`]) or the file's
//! declarations, `subnet … netmask … { range …; pool { … } … }`, `shared-network` and `group`
//! (flattened: their parameters go under those of the subnets and hosts they hold), `host` inside
//! or outside subnets (with Sonde's `serial-number "…";`), and `class "NAME" { match if …; }`
//! over `option NAME`, `substring (option NAME, OFFSET, LENGTH)`, `=`, `!=`, `and`, `or`, `not`,
//! parentheses and `exists NAME`.
//!
//! Choices where isc-dhcp and the issue are silent:
//! - isc statements that change nothing here (`log-facility`, `ddns-*`, `update-static-leases`,
//!   `one-lease-per-client`, `allow`/`deny`/`ignore …`, `key`/`zone`/`failover`/`on` blocks, …) are
//!   accepted and skipped; any other unknown word is an error, so a typo is caught.
//! - `match option …` with `subclass`, `spawn`, `if` blocks and `include` are refused with a
//!   message saying what to write instead.
//! - An option must be declared before its first use (isc's rule); the error says where the
//!   later declaration is.
//! - `option NAME = VALUE;` (isc's expression form, as ONIE's documentation writes it) is read
//!   when VALUE is a constant.
//! - Host names are never resolved: an address-typed value that is a name is an error.
//! - `authoritative` and `ping-check` are server-wide in Sonde: said in a narrower scope, they
//!   apply to the server unless the global scope says otherwise. Lease times in a host or class
//!   are accepted and not applied (Sonde's lease times are per subnet); `filename` in a class
//!   becomes its option 67.
//! - `option dhcp-client-identifier` in a host is the host's identity (matched against the
//!   client's option 61), not an option sent back.
//! - After parsing, subnets may not overlap (a range's checks are made where it stands).

mod lexer;
mod options;
mod parser;
mod values;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use options::builtin_options;

use super::model::DhcpConfig;
use crate::error::{Result, ZtpError};

/// Parses `text`, read from `file` (named in errors).
pub fn parse(file: &Path, text: &str) -> Result<DhcpConfig> {
    let tokens = lexer::tokenize(file, text)?;
    let config = parser::Parser::new(file, tokens).file_body()?;
    validate(file, &config)?;
    Ok(config)
}

/// What can only be checked on the whole file: subnets do not overlap.
fn validate(file: &Path, config: &DhcpConfig) -> Result<()> {
    for (i, a) in config.subnets.iter().enumerate() {
        for b in &config.subnets[..i] {
            if a.contains(b.network) || b.contains(a.network) {
                return Err(ZtpError::Invalid {
                    file: file.to_path_buf(),
                    message: format!("subnet {} overlaps subnet {}", a.cidr(), b.cidr()),
                });
            }
        }
    }
    Ok(())
}
