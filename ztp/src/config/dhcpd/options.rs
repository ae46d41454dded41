//! Option names: the built-in table (isc-dhcp's names for the codes a ZTP server sends or
//! matches on, plus the names ZTP setups declare for 210 and 239) and the file's own
//! `option NAME code N = TYPE;` declarations, which come first when a name is looked up.
//!
//! Kinds follow isc's `dhcp-options(5)`: 60 (`vendor-class-identifier`) is text so an ONIE
//! vendor string reads as itself in events; 61 and 77 are `string` (hex bytes or a quoted
//! string), since clients put binary there.

use super::super::model::{DhcpConfig, OptionDef, OptionKind};

/// The option names known without a declaration: (name, code, kind).
pub fn builtin_options() -> &'static [(&'static str, u8, OptionKind)] {
    BUILTIN
}

const BUILTIN: &[(&str, u8, OptionKind)] = &[
    ("subnet-mask", 1, OptionKind::IpAddresses),
    ("time-offset", 2, OptionKind::I32),
    ("routers", 3, OptionKind::IpAddresses),
    ("time-servers", 4, OptionKind::IpAddresses),
    ("domain-name-servers", 6, OptionKind::IpAddresses),
    ("log-servers", 7, OptionKind::IpAddresses),
    ("host-name", 12, OptionKind::Text),
    ("domain-name", 15, OptionKind::Text),
    ("root-path", 17, OptionKind::Text),
    ("interface-mtu", 26, OptionKind::U16),
    ("broadcast-address", 28, OptionKind::IpAddresses),
    ("ntp-servers", 42, OptionKind::IpAddresses),
    ("vendor-encapsulated-options", 43, OptionKind::Bytes),
    ("dhcp-lease-time", 51, OptionKind::U32),
    ("dhcp-server-identifier", 54, OptionKind::IpAddresses),
    ("dhcp-renewal-time", 58, OptionKind::U32),
    ("dhcp-rebinding-time", 59, OptionKind::U32),
    ("vendor-class-identifier", 60, OptionKind::Text),
    ("dhcp-client-identifier", 61, OptionKind::Bytes),
    ("tftp-server-name", 66, OptionKind::Text),
    ("bootfile-name", 67, OptionKind::Text),
    ("www-server", 72, OptionKind::IpAddresses),
    ("user-class", 77, OptionKind::Bytes),
    ("default-url", 114, OptionKind::Text),
    ("domain-search", 119, OptionKind::Text),
    ("vivso", 125, OptionKind::Bytes),
    ("tftp-server-address", 150, OptionKind::IpAddresses),
    ("loader-pathprefix", 210, OptionKind::Text),
    ("cumulus-provision-url", 239, OptionKind::Text),
];

impl OptionDef {
    /// The built-in option called `name` (case-insensitive, as isc reads names).
    pub fn builtin(name: &str) -> Option<OptionDef> {
        BUILTIN
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|&(name, code, kind)| OptionDef {
                name: name.to_string(),
                code,
                kind,
            })
    }

    /// The built-in option with `code`.
    pub fn builtin_code(code: u8) -> Option<OptionDef> {
        BUILTIN
            .iter()
            .find(|(_, c, _)| *c == code)
            .map(|&(name, code, kind)| OptionDef {
                name: name.to_string(),
                code,
                kind,
            })
    }
}

impl DhcpConfig {
    /// The option called `name`: the file's declaration if it has one, else the built-in.
    pub fn option_def(&self, name: &str) -> Option<OptionDef> {
        self.option_defs
            .iter()
            .rev()
            .find(|d| d.name.eq_ignore_ascii_case(name))
            .cloned()
            .or_else(|| OptionDef::builtin(name))
    }

    /// The name of option `code` (the file's declaration first), `option-N` when none is known.
    pub fn option_name(&self, code: u8) -> String {
        self.option_defs
            .iter()
            .rev()
            .find(|d| d.code == code)
            .map(|d| d.name.clone())
            .or_else(|| OptionDef::builtin_code(code).map(|d| d.name))
            .unwrap_or_else(|| format!("option-{code}"))
    }
}

/// The names in force while a file is read: built-ins, then declarations as they come.
#[derive(Debug, Default)]
pub struct Table {
    declared: Vec<OptionDef>,
}

impl Table {
    pub fn declare(&mut self, def: OptionDef) {
        self.declared.push(def);
    }

    pub fn lookup(&self, name: &str) -> Option<OptionDef> {
        self.declared
            .iter()
            .rev()
            .find(|d| d.name.eq_ignore_ascii_case(name))
            .cloned()
            .or_else(|| OptionDef::builtin(name))
    }

    pub fn into_declared(self) -> Vec<OptionDef> {
        self.declared
    }
}
