//! What the ZTP files say, once parsed: the DHCP scopes of `dhcpd.conf` and the devices of
//! `config.db`. The parsers ([`super::dhcpd`], [`super::db`]) build these; the DHCP and HTTP
//! servers only read them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// `dhcpd.conf`: global parameters and options, classes, subnets and hosts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DhcpConfig {
    /// `authoritative;`: NAK requests for addresses the server does not know (isc's meaning).
    pub authoritative: bool,
    /// `default-lease-time`, seconds; isc's default is 43200.
    pub default_lease_time: Option<u32>,
    /// `max-lease-time`, seconds; isc's default is 86400.
    pub max_lease_time: Option<u32>,
    /// `min-lease-time`, seconds.
    pub min_lease_time: Option<u32>,
    /// `option NAME code N = TYPE;` declarations, beside the built-in names ([`OptionDef::builtin`]).
    pub option_defs: Vec<OptionDef>,
    /// Options of the global scope.
    pub options: Options,
    /// `class "NAME" { match if …; options }`, in declaration order.
    pub classes: Vec<Class>,
    /// `subnet A netmask M { … }`, in declaration order.
    pub subnets: Vec<Subnet>,
    /// `host NAME { … }` outside any subnet (isc allows both).
    pub hosts: Vec<Host>,
    /// `next-server A;` (siaddr) of the global scope.
    pub next_server: Option<Ipv4Addr>,
    /// `filename "…";` (bootfile, option 67 / BOOTP file field) of the global scope.
    pub filename: Option<String>,
    /// `ping-check true;`: probe an address before offering it.
    pub ping_check: bool,
}

/// A declared or built-in option name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDef {
    pub name: String,
    pub code: u8,
    pub kind: OptionKind,
}

/// The value types of isc-dhcp's `option … code N = TYPE` declarations that Sonde encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionKind {
    /// `text`: a string, sent without a terminating NUL.
    Text,
    /// `ip-address`; `array of ip-address` also maps here (one or more addresses).
    IpAddresses,
    /// `unsigned integer 8|16|32`.
    U8,
    U16,
    U32,
    /// `signed integer 32` (time-offset).
    I32,
    /// `boolean`.
    Bool,
    /// `string`: colon-separated hex bytes (`00:1a:…`) or a quoted string.
    Bytes,
}

/// One option's value as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    Text(String),
    IpAddresses(Vec<Ipv4Addr>),
    U8(u8),
    U16(u16),
    U32(u32),
    I32(i32),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl OptionValue {
    /// The option's payload on the wire (without code and length).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            OptionValue::Text(s) => s.as_bytes().to_vec(),
            OptionValue::IpAddresses(ips) => ips.iter().flat_map(|ip| ip.octets()).collect(),
            OptionValue::U8(v) => vec![*v],
            OptionValue::U16(v) => v.to_be_bytes().to_vec(),
            OptionValue::U32(v) => v.to_be_bytes().to_vec(),
            OptionValue::I32(v) => v.to_be_bytes().to_vec(),
            OptionValue::Bool(v) => vec![u8::from(*v)],
            OptionValue::Bytes(b) => b.clone(),
        }
    }

    /// The value as text, for event rows (addresses comma separated).
    pub fn to_text(&self) -> String {
        match self {
            OptionValue::Text(s) => s.clone(),
            OptionValue::IpAddresses(ips) => ips
                .iter()
                .map(Ipv4Addr::to_string)
                .collect::<Vec<_>>()
                .join(","),
            OptionValue::U8(v) => v.to_string(),
            OptionValue::U16(v) => v.to_string(),
            OptionValue::U32(v) => v.to_string(),
            OptionValue::I32(v) => v.to_string(),
            OptionValue::Bool(v) => v.to_string(),
            OptionValue::Bytes(b) => b
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        }
    }
}

/// Options of one scope by code; a narrower scope's option replaces a wider one's
/// (host over class over subnet over global, as isc-dhcp merges them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options(pub BTreeMap<u8, OptionValue>);

impl Options {
    pub fn get(&self, code: u8) -> Option<&OptionValue> {
        self.0.get(&code)
    }

    pub fn set(&mut self, code: u8, value: OptionValue) {
        self.0.insert(code, value);
    }

    /// `self` with `narrower`'s options laid over it.
    pub fn overlaid(&self, narrower: &Options) -> Options {
        let mut merged = self.clone();
        for (code, value) in &narrower.0 {
            merged.0.insert(*code, value.clone());
        }
        merged
    }
}

/// `class "NAME" { match if CONDITION; option …; }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub name: String,
    pub condition: Condition,
    pub options: Options,
}

/// A class's `match if` condition over the client's options.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `substring (option NAME, OFFSET, LENGTH) = "VALUE"`.
    Substring {
        code: u8,
        offset: usize,
        length: usize,
        value: Vec<u8>,
    },
    /// `option NAME = "VALUE"`.
    Equals { code: u8, value: Vec<u8> },
    /// `A and B`.
    And(Box<Condition>, Box<Condition>),
    /// `A or B`.
    Or(Box<Condition>, Box<Condition>),
    /// `not A`.
    Not(Box<Condition>),
    /// `exists NAME`: the client sent the option.
    Exists { code: u8 },
}

impl Condition {
    /// Whether a client whose options are `option(code)` matches.
    pub fn matches<'a>(&self, option: &dyn Fn(u8) -> Option<&'a [u8]>) -> bool {
        match self {
            Condition::Substring {
                code,
                offset,
                length,
                value,
            } => option(*code).is_some_and(|bytes| {
                let start = (*offset).min(bytes.len());
                let end = offset.saturating_add(*length).min(bytes.len());
                &bytes[start..end] == value.as_slice()
            }),
            Condition::Equals { code, value } => option(*code) == Some(value.as_slice()),
            Condition::And(a, b) => a.matches(option) && b.matches(option),
            Condition::Or(a, b) => a.matches(option) || b.matches(option),
            Condition::Not(a) => !a.matches(option),
            Condition::Exists { code } => option(*code).is_some(),
        }
    }
}

/// `subnet NETWORK netmask MASK { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub network: Ipv4Addr,
    pub netmask: Ipv4Addr,
    /// `range FIRST LAST;` (inclusive), possibly several.
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub options: Options,
    pub hosts: Vec<Host>,
    pub default_lease_time: Option<u32>,
    pub max_lease_time: Option<u32>,
    pub next_server: Option<Ipv4Addr>,
    pub filename: Option<String>,
}

impl Subnet {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::from(self.netmask);
        u32::from(ip) & mask == u32::from(self.network) & mask
    }

    /// `10.0.0.0/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.network, u32::from(self.netmask).count_ones())
    }
}

/// `host NAME { … }`: a reservation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Host {
    pub name: String,
    /// `hardware ethernet 48:65:ee:11:da:85;`
    pub hardware_ethernet: Option<[u8; 6]>,
    /// `option dhcp-client-identifier "…";` or hex bytes: matched against option 61.
    pub client_id: Option<Vec<u8>>,
    /// `serial-number "591654XK1902037";` (Sonde's extension to isc's syntax): matched against
    /// the serial a client's option 61 carries (ONIE and CTRLD send `00` + serial).
    pub serial: Option<String>,
    /// `fixed-address A;`
    pub fixed_address: Option<Ipv4Addr>,
    pub options: Options,
    pub next_server: Option<Ipv4Addr>,
    pub filename: Option<String>,
}

/// `config.db`: serial number → the device's files, in the seed's JSON (with `#` comments).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDb {
    pub devices: BTreeMap<String, Device>,
}

/// One serial's entry of `config.db`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    /// `ctrld`: file under `configs/` served at `/ztp/config/ctrld`.
    pub ctrld: Option<String>,
    /// `ctrldrbac`: `/ztp/config/ctrldrbac`.
    pub ctrldrbac: Option<String>,
    /// `startup`: `/ztp/config/startup`.
    pub startup: Option<String>,
    /// `element`: `/ztp/config/element`.
    pub element: Option<String>,
    /// `image`: the installer URL `/ztp/image` redirects to (or serves, when it names a file
    /// under `images/`).
    pub image: Option<String>,
    /// `mac`: when set, only the device whose lease has this MAC gets this serial's files.
    pub mac: Option<String>,
    /// `ztp_script`: Cumulus ZTP script under `configs/` (option 239 points at `/ztp/script`).
    pub script: Option<String>,
    /// Keys Sonde does not interpret, kept so `sonde ztp` rewrites the file without loss.
    pub extra: BTreeMap<String, String>,
}

/// Which of a device's files `/ztp/config/<name>` asks for, with the seed's event codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    Ctrld,
    Startup,
    Element,
    CtrldRbac,
}

impl ConfigKind {
    pub const ALL: [ConfigKind; 4] = [
        ConfigKind::Ctrld,
        ConfigKind::Startup,
        ConfigKind::Element,
        ConfigKind::CtrldRbac,
    ];

    /// The URL's last segment and the config.db key.
    pub fn name(self) -> &'static str {
        match self {
            ConfigKind::Ctrld => "ctrld",
            ConfigKind::Startup => "startup",
            ConfigKind::Element => "element",
            ConfigKind::CtrldRbac => "ctrldrbac",
        }
    }

    pub fn parse(name: &str) -> Option<ConfigKind> {
        ConfigKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The seed's business event for "config set" (served), "not provided" (no file for the
    /// serial) and "not set" (the server failed).
    pub fn codes(self) -> (&'static str, &'static str, &'static str) {
        match self {
            ConfigKind::Ctrld => ("ZTP0011I", "ZTP0012W", "ZTP0013E"),
            ConfigKind::Startup => ("ZTP0021I", "ZTP0022W", "ZTP0023E"),
            ConfigKind::Element => ("ZTP0031I", "ZTP0032W", "ZTP0033E"),
            ConfigKind::CtrldRbac => ("ZTP0041I", "ZTP0042W", "ZTP0043E"),
        }
    }

    pub fn file(self, device: &Device) -> Option<&str> {
        match self {
            ConfigKind::Ctrld => device.ctrld.as_deref(),
            ConfigKind::Startup => device.startup.as_deref(),
            ConfigKind::Element => device.element.as_deref(),
            ConfigKind::CtrldRbac => device.ctrldrbac.as_deref(),
        }
    }
}
