//! The statements and blocks of `dhcpd.conf`, by recursive descent over [`super::lexer`]'s
//! tokens. Each block is read into a [`Body`] whatever its kind, and the statements a kind may
//! not hold are refused where they stand ("`range` outside its subnet"). Groups and shared
//! networks are flattened when they close: their parameters are laid under those of the hosts
//! and subnets they hold, whose own values win (isc's scoping, order within a block not
//! mattering). A host inside a subnet stays in it and does not copy the subnet's options: the
//! server merges host over class over subnet over global when it answers.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;

use super::lexer::{Kind, Token};
use super::options::Table;
use crate::config::model::{Class, Condition, DhcpConfig, Host, OptionValue, Options, Subnet};
use crate::error::{Result, ZtpError};

/// Statements isc-dhcp knows that change nothing Sonde does: accepted and skipped (with the
/// block some of them carry, such as `key` and `zone`). Any word starting `ddns-` too.
const IGNORED: &[&str] = &[
    "log-facility",
    "update-static-leases",
    "one-lease-per-client",
    "deny",
    "allow",
    "ignore",
    "use-host-decl-names",
    "get-lease-hostnames",
    "update-conflict-detection",
    "update-optimization",
    "boot-unknown-clients",
    "stash-agent-options",
    "always-broadcast",
    "always-reply-rfc1048",
    "lease-file-name",
    "pid-file-name",
    "db-time-format",
    "server-name",
    "dynamic-bootp-lease-length",
    "dynamic-bootp-lease-cutoff",
    "abandon-lease-time",
    "local-address",
    "local-port",
    "omapi-port",
    "omapi-key",
    "key",
    "zone",
    "failover",
    "lease",
    "log-threshold-high",
    "log-threshold-low",
    "infinite-is-reserved",
    "ping-timeout",
    "ping-timeout-ms",
    "ping-cltt-secs",
    "max-ack-delay",
    "max-response-delay",
    "max-unacked-updates",
    "adaptive-lease-time-threshold",
    "dhcp-cache-threshold",
    "bootp-lease-length",
    "bootp-lease-cutoff",
    "site-option-space",
    "vendor-option-space",
    "min-secs",
    "filename-prefix",
    "on",
];

/// The parameters of one scope; `None` is "not said here".
#[derive(Debug, Clone, Default)]
pub(super) struct Params {
    pub options: Options,
    pub default_lease_time: Option<u32>,
    pub max_lease_time: Option<u32>,
    pub min_lease_time: Option<u32>,
    pub next_server: Option<Ipv4Addr>,
    pub filename: Option<String>,
    pub authoritative: Option<bool>,
    pub ping_check: Option<bool>,
}

impl Params {
    /// `self` with `wider`'s values where `self` says nothing.
    fn under(&self, wider: &Params) -> Params {
        Params {
            options: wider.options.overlaid(&self.options),
            default_lease_time: self.default_lease_time.or(wider.default_lease_time),
            max_lease_time: self.max_lease_time.or(wider.max_lease_time),
            min_lease_time: self.min_lease_time.or(wider.min_lease_time),
            next_server: self.next_server.or(wider.next_server),
            filename: self.filename.clone().or_else(|| wider.filename.clone()),
            authoritative: self.authoritative.or(wider.authoritative),
            ping_check: self.ping_check.or(wider.ping_check),
        }
    }
}

/// The kind of block being read, with what its statements need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Global,
    SharedNetwork,
    Subnet {
        network: Ipv4Addr,
        netmask: Ipv4Addr,
    },
    Pool {
        network: Ipv4Addr,
        netmask: Ipv4Addr,
    },
    Group {
        in_subnet: bool,
    },
    Host,
    Class,
}

impl Scope {
    fn subnet(self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        match self {
            Scope::Subnet { network, netmask } | Scope::Pool { network, netmask } => {
                Some((network, netmask))
            }
            _ => None,
        }
    }
}

/// What one block said, whatever its kind.
#[derive(Debug, Default)]
pub(super) struct Body {
    pub params: Params,
    pub hosts: Vec<Host>,
    pub subnets: Vec<Subnet>,
    pub classes: Vec<Class>,
    pub ranges: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub hardware: Option<[u8; 6]>,
    pub client_id: Option<Vec<u8>>,
    pub serial: Option<String>,
    pub fixed_address: Option<Ipv4Addr>,
    pub condition: Option<Condition>,
}

pub(super) struct Parser<'a> {
    pub file: &'a Path,
    pub tokens: Vec<Token>,
    pub pos: usize,
    /// Where the statement being read starts, for "expected `;` after `…`".
    pub stmt_start: usize,
    pub table: Table,
    /// Declarations anywhere in the file, by name: the line, to say a use comes before it.
    pub declared_later: HashMap<String, usize>,
    /// `authoritative` / `ping-check` said in a narrower scope (Sonde's are server-wide).
    pub inner_authoritative: Option<bool>,
    pub inner_ping_check: Option<bool>,
    /// Blocks and sub-conditions open now, bounded by [`MAX_DEPTH`].
    pub depth: usize,
}

/// How deep blocks and conditions may nest: far past any real file, well short of the stack.
pub(super) const MAX_DEPTH: usize = 64;

impl<'a> Parser<'a> {
    pub fn new(file: &'a Path, tokens: Vec<Token>) -> Parser<'a> {
        let mut declared_later = HashMap::new();
        for w in tokens.windows(3) {
            if w[0].is_word("option") && w[1].kind == Kind::Word && w[2].is_word("code") {
                declared_later
                    .entry(w[1].text.to_ascii_lowercase())
                    .or_insert(w[1].line);
            }
        }
        Parser {
            file,
            tokens,
            pos: 0,
            stmt_start: 0,
            table: Table::default(),
            declared_later,
            inner_authoritative: None,
            inner_ping_check: None,
            depth: 0,
        }
    }

    /// The whole file.
    pub fn file_body(mut self) -> Result<DhcpConfig> {
        let body = self.body(Scope::Global, None)?;
        let p = body.params;
        Ok(DhcpConfig {
            authoritative: p
                .authoritative
                .or(self.inner_authoritative)
                .unwrap_or(false),
            default_lease_time: p.default_lease_time,
            max_lease_time: p.max_lease_time,
            min_lease_time: p.min_lease_time,
            option_defs: self.table.into_declared(),
            options: p.options,
            classes: body.classes,
            subnets: body.subnets,
            hosts: body.hosts,
            next_server: p.next_server,
            filename: p.filename,
            ping_check: p.ping_check.or(self.inner_ping_check).unwrap_or(false),
        })
    }

    // ---- tokens ----

    pub fn peek(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    pub fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != Kind::Eof {
            self.pos += 1;
        }
        token
    }

    pub fn error(&self, token: &Token, message: impl Into<String>) -> ZtpError {
        ZtpError::Syntax {
            file: self.file.to_path_buf(),
            line: token.line,
            column: token.column,
            token: token.text.clone(),
            message: message.into(),
        }
    }

    /// The statement read so far, as written (tokens joined by spaces).
    pub fn statement_text(&self) -> String {
        let end = self.pos.min(self.tokens.len());
        let start = self.stmt_start.min(end);
        self.tokens[start..end]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn expect_punct(&mut self, c: char) -> Result<Token> {
        if self.peek().is_punct(c) {
            return Ok(self.next());
        }
        let message = format!("expected `{c}` after `{}`", self.statement_text());
        Err(self.error(self.peek(), message))
    }

    pub fn semi(&mut self) -> Result<()> {
        self.expect_punct(';').map(drop)
    }

    pub fn word(&mut self, what: &str) -> Result<Token> {
        if self.peek().kind == Kind::Word {
            return Ok(self.next());
        }
        let message = format!("expected {what} after `{}`", self.statement_text());
        Err(self.error(self.peek(), message))
    }

    pub fn keyword(&mut self, word: &str) -> Result<Token> {
        if self.peek().is_word(word) {
            return Ok(self.next());
        }
        let message = format!("expected `{word}` after `{}`", self.statement_text());
        Err(self.error(self.peek(), message))
    }

    /// A name given as a word or a quoted string (host, class, shared-network names).
    pub fn name(&mut self, what: &str) -> Result<(Token, String)> {
        let token = self.next();
        let name = match &token.kind {
            Kind::Word => token.text.clone(),
            Kind::Str(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            _ => {
                let message = format!("expected {what}");
                return Err(self.error(&token, message));
            }
        };
        Ok((token, name))
    }

    // ---- blocks ----

    /// Statements up to the `}` closing a block (or the end of the file, for the global scope).
    pub fn body(&mut self, scope: Scope, opened: Option<&Token>) -> Result<Body> {
        self.enter()?;
        let body = self.statements(scope, opened);
        self.depth -= 1;
        body
    }

    /// One more level of nesting, refused past [`MAX_DEPTH`].
    pub fn enter(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            let message = format!("nested more than {MAX_DEPTH} deep");
            return Err(self.error(self.peek(), message));
        }
        self.depth += 1;
        Ok(())
    }

    fn statements(&mut self, scope: Scope, opened: Option<&Token>) -> Result<Body> {
        let mut body = Body::default();
        loop {
            let token = self.peek().clone();
            match (&token.kind, opened) {
                (Kind::Eof, None) => return Ok(body),
                (Kind::Eof, Some(open)) => {
                    let message = format!(
                        "expected `}}` to close the block opened on line {}",
                        open.line
                    );
                    return Err(self.error(&token, message));
                }
                (Kind::Punct('}'), Some(_)) => {
                    self.next();
                    return Ok(body);
                }
                (Kind::Punct('}'), None) => {
                    return Err(self.error(&token, "`}` closes no block"));
                }
                (Kind::Punct(';'), _) => {
                    self.next();
                }
                _ => {
                    self.stmt_start = self.pos;
                    self.statement(scope, &mut body)?;
                }
            }
        }
    }

    fn statement(&mut self, scope: Scope, body: &mut Body) -> Result<()> {
        let token = self.next();
        if token.kind != Kind::Word {
            return Err(self.error(&token, "expected a statement"));
        }
        let word = token.text.to_ascii_lowercase();
        match word.as_str() {
            "authoritative" => {
                self.semi()?;
                self.set_authoritative(scope, body, true);
            }
            "not" => {
                self.keyword("authoritative")?;
                self.semi()?;
                self.set_authoritative(scope, body, false);
            }
            "default-lease-time" => body.params.default_lease_time = Some(self.seconds()?),
            "max-lease-time" => body.params.max_lease_time = Some(self.seconds()?),
            "min-lease-time" => body.params.min_lease_time = Some(self.seconds()?),
            "ping-check" => {
                let on = self.boolean()?;
                self.semi()?;
                if scope == Scope::Global {
                    body.params.ping_check = Some(on);
                } else {
                    self.inner_ping_check = Some(on);
                }
            }
            "next-server" => {
                if scope == Scope::Class {
                    let message =
                        "`next-server` in a class is not supported; set it in the subnet or host";
                    return Err(self.error(&token, message));
                }
                body.params.next_server = Some(self.address()?);
                self.semi()?;
            }
            "filename" => {
                let name = self.text_value()?;
                self.semi()?;
                if scope == Scope::Class {
                    body.params.options.set(67, OptionValue::Text(name));
                } else {
                    body.params.filename = Some(name);
                }
            }
            "server-identifier" => {
                let ip = self.address()?;
                self.semi()?;
                body.params
                    .options
                    .set(54, OptionValue::IpAddresses(vec![ip]));
            }
            "option" => self.option_statement(scope, body)?,
            "subnet" => self.subnet(&token, scope, body)?,
            "shared-network" => self.shared_network(&token, scope, body)?,
            "group" => self.group(&token, scope, body)?,
            "host" => self.host(&token, scope, body)?,
            "class" => self.class(&token, scope, body)?,
            "pool" => self.pool(&token, scope, body)?,
            "range" => self.range(&token, scope, body)?,
            "hardware" => {
                self.only_in(&token, scope, Scope::Host, "a host")?;
                body.hardware = Some(self.hardware()?);
            }
            "fixed-address" => {
                self.only_in(&token, scope, Scope::Host, "a host")?;
                body.fixed_address = Some(self.fixed_address()?);
            }
            "serial-number" => {
                self.only_in(&token, scope, Scope::Host, "a host")?;
                body.serial = Some(self.text_value()?);
                self.semi()?;
            }
            "match" => {
                self.only_in(&token, scope, Scope::Class, "a class")?;
                if !self.peek().is_word("if") {
                    let message = "`match option …` with `subclass` declarations is not supported; \
                                   write `match if option NAME = \"VALUE\";` in a class per value";
                    return Err(self.error(self.peek(), message));
                }
                self.next();
                body.condition = Some(self.condition()?);
                self.semi()?;
            }
            "subclass" | "spawn" => {
                let message = format!(
                    "`{word}` is not supported; give each value its own class with `match if`"
                );
                return Err(self.error(&token, message));
            }
            "if" | "elsif" | "else" => {
                return Err(self.error(
                    &token,
                    "conditional blocks are not supported; use a `class` with `match if`",
                ));
            }
            "include" => {
                return Err(self.error(
                    &token,
                    "`include` is not supported; put the included text in dhcpd.conf",
                ));
            }
            w if w.starts_with("ddns-") || IGNORED.contains(&w) => self.skip_statement()?,
            _ => {
                let message = format!("unknown statement `{}`", token.text);
                return Err(self.error(&token, message));
            }
        }
        Ok(())
    }

    fn set_authoritative(&mut self, scope: Scope, body: &mut Body, on: bool) {
        if scope == Scope::Global {
            body.params.authoritative = Some(on);
        } else {
            self.inner_authoritative = Some(on);
        }
    }

    fn only_in(&self, token: &Token, scope: Scope, wanted: Scope, what: &str) -> Result<()> {
        if scope == wanted {
            return Ok(());
        }
        let message = format!("`{}` outside {what}", token.text);
        Err(self.error(token, message))
    }

    /// Skips an accepted-and-ignored statement: up to its `;`, or past the block it carries.
    fn skip_statement(&mut self) -> Result<()> {
        loop {
            let token = self.next();
            match token.kind {
                Kind::Punct(';') => return Ok(()),
                Kind::Punct('{') => {
                    self.skip_block(&token)?;
                    if self.peek().is_punct(';') {
                        self.next();
                    }
                    return Ok(());
                }
                Kind::Punct('}') | Kind::Eof => {
                    let message = format!("expected `;` after `{}`", self.statement_text());
                    return Err(self.error(&token, message));
                }
                _ => {}
            }
        }
    }

    fn skip_block(&mut self, open: &Token) -> Result<()> {
        let mut depth = 1usize;
        while depth > 0 {
            let token = self.next();
            match token.kind {
                Kind::Punct('{') => depth += 1,
                Kind::Punct('}') => depth -= 1,
                Kind::Eof => {
                    let message = format!(
                        "expected `}}` to close the block opened on line {}",
                        open.line
                    );
                    return Err(self.error(&token, message));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn not_here(&self, token: &Token, scope: Scope) -> ZtpError {
        let place = match scope {
            Scope::Global => "at the top level",
            Scope::SharedNetwork => "in a shared-network",
            Scope::Subnet { .. } => "in a subnet",
            Scope::Pool { .. } => "in a pool",
            Scope::Group { .. } => "in a group",
            Scope::Host => "in a host",
            Scope::Class => "in a class",
        };
        let message = format!("`{}` is not allowed {place}", token.text);
        self.error(token, message)
    }

    fn subnet(&mut self, token: &Token, scope: Scope, parent: &mut Body) -> Result<()> {
        if !matches!(
            scope,
            Scope::Global | Scope::SharedNetwork | Scope::Group { in_subnet: false }
        ) {
            return Err(self.not_here(token, scope));
        }
        let net_token = self.peek().clone();
        let network = self.address()?;
        self.keyword("netmask")?;
        let mask_token = self.peek().clone();
        let netmask = self.address()?;
        let bits = u32::from(netmask);
        if bits.leading_ones() + bits.trailing_zeros() != 32 {
            let message = format!("netmask {netmask} is not contiguous");
            return Err(self.error(&mask_token, message));
        }
        if u32::from(network) & !bits != 0 {
            let message =
                format!("subnet number {network} has host bits set for netmask {netmask}");
            return Err(self.error(&net_token, message));
        }
        let open = self.expect_punct('{')?;
        let body = self.body(Scope::Subnet { network, netmask }, Some(&open))?;
        let p = body.params;
        parent.subnets.push(Subnet {
            network,
            netmask,
            ranges: body.ranges,
            options: p.options,
            hosts: body.hosts,
            default_lease_time: p.default_lease_time,
            max_lease_time: p.max_lease_time,
            next_server: p.next_server,
            filename: p.filename,
        });
        Ok(())
    }

    fn shared_network(&mut self, token: &Token, scope: Scope, parent: &mut Body) -> Result<()> {
        if !matches!(scope, Scope::Global | Scope::Group { in_subnet: false }) {
            return Err(self.not_here(token, scope));
        }
        self.name("a shared-network name")?;
        let open = self.expect_punct('{')?;
        let body = self.body(Scope::SharedNetwork, Some(&open))?;
        flatten_into(parent, body);
        Ok(())
    }

    fn group(&mut self, token: &Token, scope: Scope, parent: &mut Body) -> Result<()> {
        let in_subnet = match scope {
            Scope::Global | Scope::SharedNetwork => false,
            Scope::Subnet { .. } => true,
            Scope::Group { in_subnet } => in_subnet,
            _ => return Err(self.not_here(token, scope)),
        };
        if self.peek().kind != Kind::Punct('{') {
            self.name("a group name or `{`")?;
        }
        let open = self.expect_punct('{')?;
        let body = self.body(Scope::Group { in_subnet }, Some(&open))?;
        flatten_into(parent, body);
        Ok(())
    }

    fn host(&mut self, token: &Token, scope: Scope, parent: &mut Body) -> Result<()> {
        if !matches!(
            scope,
            Scope::Global | Scope::SharedNetwork | Scope::Subnet { .. } | Scope::Group { .. }
        ) {
            return Err(self.not_here(token, scope));
        }
        let (_, name) = self.name("a host name")?;
        let open = self.expect_punct('{')?;
        let body = self.body(Scope::Host, Some(&open))?;
        let p = body.params;
        parent.hosts.push(Host {
            name,
            hardware_ethernet: body.hardware,
            client_id: body.client_id,
            serial: body.serial,
            fixed_address: body.fixed_address,
            options: p.options,
            next_server: p.next_server,
            filename: p.filename,
        });
        Ok(())
    }

    fn class(&mut self, token: &Token, scope: Scope, parent: &mut Body) -> Result<()> {
        if scope != Scope::Global {
            return Err(self.not_here(token, scope));
        }
        let (name_token, name) = self.name("a class name")?;
        let open = self.expect_punct('{')?;
        let body = self.body(Scope::Class, Some(&open))?;
        let Some(condition) = body.condition else {
            let message = format!("class `{name}` has no `match if …;` (Sonde has no subclasses)");
            return Err(self.error(&name_token, message));
        };
        parent.classes.push(Class {
            name,
            condition,
            options: body.params.options,
        });
        Ok(())
    }

    /// A pool's ranges join its subnet; its options and parameters apply to the whole subnet,
    /// under the subnet's own (Sonde has no scope per pool).
    fn pool(&mut self, token: &Token, scope: Scope, parent: &mut Body) -> Result<()> {
        let Scope::Subnet { network, netmask } = scope else {
            return Err(self.not_here(token, scope));
        };
        let open = self.expect_punct('{')?;
        let body = self.body(Scope::Pool { network, netmask }, Some(&open))?;
        parent.ranges.extend(body.ranges);
        parent.hosts.extend(body.hosts);
        parent.params = parent.params.under(&body.params);
        Ok(())
    }

    /// `range [dynamic-bootp] FIRST [LAST];`, both inside the subnet and in order.
    fn range(&mut self, token: &Token, scope: Scope, parent: &mut Body) -> Result<()> {
        let Some((network, netmask)) = scope.subnet() else {
            return Err(self.error(token, "`range` outside its subnet"));
        };
        if self.peek().is_word("dynamic-bootp") {
            self.next();
        }
        let subnet = Subnet {
            network,
            netmask,
            ranges: Vec::new(),
            options: Options::default(),
            hosts: Vec::new(),
            default_lease_time: None,
            max_lease_time: None,
            next_server: None,
            filename: None,
        };
        let first_token = self.peek().clone();
        let first = self.address()?;
        let last_token = self.peek().clone();
        let last = if last_token.kind == Kind::Word {
            self.address()?
        } else {
            first
        };
        for (ip, at) in [(first, &first_token), (last, &last_token)] {
            if !subnet.contains(ip) {
                let message = format!("{ip} is outside subnet {}", subnet.cidr());
                return Err(self.error(at, message));
            }
        }
        if u32::from(first) > u32::from(last) {
            let message = format!("range {first} {last}: the first address is after the last");
            return Err(self.error(&last_token, message));
        }
        self.semi()?;
        parent.ranges.push((first, last));
        Ok(())
    }

    fn seconds(&mut self) -> Result<u32> {
        let token = self.word("a number of seconds")?;
        let value = token.text.parse::<u32>().map_err(|_| {
            let message = format!("expected a number of seconds, found `{}`", token.text);
            self.error(&token, message)
        })?;
        self.semi()?;
        Ok(value)
    }
}

/// A group's or shared network's contents into the enclosing block, its parameters laid under
/// theirs.
fn flatten_into(parent: &mut Body, body: Body) {
    let wider = &body.params;
    for mut host in body.hosts {
        host.options = wider.options.overlaid(&host.options);
        host.next_server = host.next_server.or(wider.next_server);
        host.filename = host.filename.or_else(|| wider.filename.clone());
        parent.hosts.push(host);
    }
    for mut subnet in body.subnets {
        subnet.options = wider.options.overlaid(&subnet.options);
        subnet.default_lease_time = subnet.default_lease_time.or(wider.default_lease_time);
        subnet.max_lease_time = subnet.max_lease_time.or(wider.max_lease_time);
        subnet.next_server = subnet.next_server.or(wider.next_server);
        subnet.filename = subnet.filename.or_else(|| wider.filename.clone());
        parent.subnets.push(subnet);
    }
    parent.classes.extend(body.classes);
}
