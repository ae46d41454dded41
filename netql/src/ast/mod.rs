//! The syntax tree of one NetQL statement, as the parser builds it and the planner reads it.
//!
//! Every node carries the [`Span`] of the text it came from, so that later stages (the planner,
//! a check that finds no such field) can point at the offending words as the parser does.
//!
//! Every node implements `Display`, printing canonical NetQL: lower-case keywords, families and
//! field names, one space between words, hostnames joined by `,` and values as typed (addresses
//! and durations normalised). Parsing that text again gives back an equal tree.
//!
//! **Equality ignores spans.** `a == b` holds when two trees mean the same statement, wherever
//! their words stood; that is what the `parse(ast.to_string()) == ast` round trip needs. Compare
//! the `span` fields themselves to test positions. [`Span`] alone compares its offsets.

use std::net::IpAddr;
use std::time::Duration;

/// The severities `show events level …` accepts, least severe first.
pub const EVENT_LEVELS: &[&str] = &["info", "warning", "error", "critical"];

/// The reserved words of NetQL, matched case-insensitively. Any other word is a name or a value.
pub const KEYWORDS: &[&str] = &[
    "around", "and", "as", "asc", "between", "by", "changes", "check", "count", "desc", "describe",
    "distinct", "explain", "from", "group", "having", "in", "is", "json", "like", "limit", "not",
    "null", "offset", "or", "order", "select", "show", "trace", "where",
];

/// Byte offsets `start..end` of a node in the statement's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The span from the start of `self` to the end of `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// Implements `PartialEq` and `Eq` comparing every field but `span`. The destructuring is
/// exhaustive, so a field added to the struct and forgotten here does not compile.
macro_rules! eq_ignoring_span {
    ($ty:ident { $($field:ident),* }) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                let $ty { $($field,)* span: _ } = self;
                let _ = other;
                true $(&& $field == &other.$field)*
            }
        }

        impl Eq for $ty {}
    };
}

/// One NetQL statement: a query, or `explain` and a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    Query(Query),
    Explain(Explain),
}

impl Statement {
    /// The query asked, or explained.
    pub fn query(&self) -> &Query {
        match self {
            Statement::Query(query) => query,
            Statement::Explain(explain) => &explain.query,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Statement::Query(query) => query.span,
            Statement::Explain(explain) => explain.span,
        }
    }
}

/// `explain <query>`: show the plan instead of running it.
#[derive(Debug, Clone)]
pub struct Explain {
    pub query: Query,
    pub span: Span,
}
eq_ignoring_span!(Explain { query });

/// `[hostnames] <command> [around <when> | between <when> and <when>] [json]`.
#[derive(Debug, Clone)]
pub struct Query {
    pub hosts: Option<Hosts>,
    pub command: Command,
    pub time: Option<TimeClause>,
    pub json: bool,
    pub span: Span,
}
eq_ignoring_span!(Query {
    hosts,
    command,
    time,
    json
});

/// The hostnames a query is limited to: `leaf01`, `leaf01,leaf02`, `spine0[12]`.
#[derive(Debug, Clone)]
pub struct Hosts {
    pub patterns: Vec<HostPattern>,
    pub span: Span,
}
eq_ignoring_span!(Hosts { patterns });

/// One hostname, or a glob over hostnames (`leaf*`, `exit?`, `spine0[12]`), as typed.
#[derive(Debug, Clone)]
pub struct HostPattern {
    pub text: String,
    pub span: Span,
}
eq_ignoring_span!(HostPattern { text });

impl HostPattern {
    /// Whether the pattern holds glob characters (`*`, `?`, `[`).
    pub fn is_glob(&self) -> bool {
        is_glob(&self.text)
    }
}

/// Whether `text` holds a glob character: `*`, `?` or `[`.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// What a query does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Check(Check),
    Show(Show),
    ShowChanges(ShowChanges),
    ShowEvents(ShowEvents),
    ShowTables(ShowTables),
    Describe(Describe),
    Trace(Trace),
    Select(Select),
}

impl Command {
    /// The command's words, as errors name it: `check`, `show`, `show changes`, ….
    pub fn keyword(&self) -> &'static str {
        match self {
            Command::Check(_) => "check",
            Command::Show(_) => "show",
            Command::ShowChanges(_) => "show changes",
            Command::ShowEvents(_) => "show events",
            Command::ShowTables(_) => "show tables",
            Command::Describe(_) => "describe",
            Command::Trace(_) => "trace",
            Command::Select(_) => "select",
        }
    }

    /// The `where` filter of a `check` or `show`.
    pub fn filter(&self) -> Option<&Expr> {
        match self {
            Command::Check(check) => check.filter.as_ref(),
            Command::Show(show) => show.filter.as_ref(),
            _ => None,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Command::Check(c) => c.span,
            Command::Show(c) => c.span,
            Command::ShowChanges(c) => c.span,
            Command::ShowEvents(c) => c.span,
            Command::ShowTables(c) => c.span,
            Command::Describe(c) => c.span,
            Command::Trace(c) => c.span,
            Command::Select(c) => c.span,
        }
    }
}

/// A family, one of [`CHECK_FAMILIES`] or [`SHOW_FAMILIES`], in its canonical spelling.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: &'static str,
    pub span: Span,
}
eq_ignoring_span!(Family { name });

/// `check <family>`.
#[derive(Debug, Clone)]
pub struct Check {
    pub family: Family,
    /// `where <expr>` over the checked rows' columns (`check bgp where reason like '%Idle%'`).
    pub filter: Option<Expr>,
    pub span: Span,
}
eq_ignoring_span!(Check { family, filter });

/// `show <family> [target] {<field> <value> | <field> <op> <value>} [changes]`.
#[derive(Debug, Clone)]
pub struct Show {
    pub family: Family,
    /// The bare value right after the family: an interface, address, prefix or MAC.
    pub target: Option<Value>,
    pub filters: Vec<Filter>,
    /// `changes`: list the rows that changed in the window instead of the state at a time.
    pub changes: bool,
    /// `where <expr>` over the table's columns (`show bgp where pfx_rx_ipv4 < 2`).
    pub filter: Option<Expr>,
    pub span: Span,
}
eq_ignoring_span!(Show {
    family,
    target,
    filters,
    changes,
    filter
});

/// `<field> <value>`, as in `vrf default` or `asn 65020`, or a comparison such as
/// `latency > 1000` (`<field> = <value>` is the pair's other spelling).
#[derive(Debug, Clone)]
pub struct Filter {
    pub field: Name,
    pub op: CompareOp,
    pub value: Value,
    pub span: Span,
}
eq_ignoring_span!(Filter { field, op, value });

/// `show changes [type <family>]`: the fabric-wide change log.
#[derive(Debug, Clone)]
pub struct ShowChanges {
    pub family: Option<Family>,
    pub span: Span,
}
eq_ignoring_span!(ShowChanges { family });

/// `show events [type <family>] [level <level>]`.
#[derive(Debug, Clone)]
pub struct ShowEvents {
    pub family: Option<Family>,
    pub level: Option<Level>,
    pub span: Span,
}
eq_ignoring_span!(ShowEvents { family, level });

/// An event severity, one of [`EVENT_LEVELS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    /// Reads a severity name, ignoring case.
    pub fn from_name(name: &str) -> Option<Severity> {
        match name.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
}

/// `level <severity>` in `show events`.
#[derive(Debug, Clone)]
pub struct Level {
    pub severity: Severity,
    pub span: Span,
}
eq_ignoring_span!(Level { severity });

/// `show tables`.
#[derive(Debug, Clone)]
pub struct ShowTables {
    pub span: Span,
}
eq_ignoring_span!(ShowTables {});

/// `describe <table>`.
#[derive(Debug, Clone)]
pub struct Describe {
    pub table: Name,
    pub span: Span,
}
eq_ignoring_span!(Describe { table });

/// `trace <ip|mac|hostname> from <hostname|ip> [vrf <vrf>] [vlan <id>] [detail] [bidir]`.
#[derive(Debug, Clone)]
pub struct Trace {
    /// An IP or MAC address, or a hostname.
    pub destination: Value,
    /// A hostname or an IP address.
    pub source: Value,
    pub vrf: Option<Value>,
    /// A VLAN id, 1 to 4094.
    pub vlan: Option<Number>,
    /// Every hop as a table row instead of the drawn paths.
    pub detail: bool,
    /// The return path too.
    pub bidir: bool,
    pub span: Span,
}
eq_ignoring_span!(Trace {
    destination,
    source,
    vrf,
    vlan,
    detail,
    bidir
});

/// `select <items> from <table> [where …] [group by …] [having …] [order by …] [limit <n>]
/// [offset <n>]`: NetQ's query form, over a table's state at the statement's time (or its rows in
/// a `between` window).
#[derive(Debug, Clone)]
pub struct Select {
    pub items: Vec<SelectItem>,
    pub table: Name,
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderKey>,
    pub limit: Option<Number>,
    pub offset: Option<Number>,
    pub span: Span,
}
eq_ignoring_span!(Select {
    items,
    table,
    filter,
    group_by,
    having,
    order_by,
    limit,
    offset
});

/// One item of a `select` list.
#[derive(Debug, Clone)]
pub struct SelectItem {
    pub kind: SelectItemKind,
    pub span: Span,
}
eq_ignoring_span!(SelectItem { kind });

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItemKind {
    /// `*`
    All,
    /// `<expr> [as <name>]`
    Expr { expr: Expr, alias: Option<Name> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl CompareOp {
    /// As typed: `=`, `!=`, `<`, `<=`, `>`, `>=`.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::NotEq => "!=",
            CompareOp::Lt => "<",
            CompareOp::LtEq => "<=",
            CompareOp::Gt => ">",
            CompareOp::GtEq => ">=",
        }
    }

    /// Whether the operator orders numbers rather than matching values.
    pub fn is_ordering(self) -> bool {
        !matches!(self, CompareOp::Eq | CompareOp::NotEq)
    }
}

/// `<expr> [asc|desc]` in `order by`.
#[derive(Debug, Clone)]
pub struct OrderKey {
    pub expr: Expr,
    pub descending: bool,
    pub span: Span,
}
eq_ignoring_span!(OrderKey { expr, descending });

/// A lower-case identifier: a field, column or table name.
#[derive(Debug, Clone)]
pub struct Name {
    pub text: String,
    pub span: Span,
}
eq_ignoring_span!(Name { text });

/// A whole number, as in `limit 10` or `vlan 20`.
#[derive(Debug, Clone)]
pub struct Number {
    pub value: u64,
    pub span: Span,
}
eq_ignoring_span!(Number { value });

/// A value in a filter, condition or trace.
#[derive(Debug, Clone)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}
eq_ignoring_span!(Value { kind });

/// What a value looked like. Unquoted words are classified in this order: glob, number, MAC,
/// IP address, prefix, else a plain word. Quoted text is always a [`ValueKind::Str`], never a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    /// `65020`
    Number(u64),
    /// `10.0.0.1`, `fe80::1`
    Ip(IpAddr),
    /// `10.0.0.0/24`, `2001:db8::/32` (host bits kept as typed)
    Prefix { addr: IpAddr, len: u8 },
    /// `44:38:39:00:00:01`
    Mac([u8; 6]),
    /// `leaf*`, `exit?`, `spine0[12]`
    Glob(String),
    /// `swp1`, `default`, `Established`
    Word(String),
    /// `"any text"` or `'any text'`, unescaped
    Str(String),
}

/// `around <when>` or `between <when> and <when>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeClause {
    Around(Around),
    Between(Between),
}

impl TimeClause {
    pub fn span(&self) -> Span {
        match self {
            TimeClause::Around(around) => around.span,
            TimeClause::Between(between) => between.span,
        }
    }
}

/// `around <when>`: the state at that time.
#[derive(Debug, Clone)]
pub struct Around {
    pub at: When,
    pub span: Span,
}
eq_ignoring_span!(Around { at });

/// `between <when> and <when>`: the window, in the order typed.
#[derive(Debug, Clone)]
pub struct Between {
    pub from: When,
    pub to: When,
    pub span: Span,
}
eq_ignoring_span!(Between { from, to });

/// A time as typed, not yet resolved against the clock.
#[derive(Debug, Clone)]
pub struct When {
    pub kind: WhenKind,
    pub span: Span,
}
eq_ignoring_span!(When { kind });

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhenKind {
    /// `now`
    Now,
    /// `10h`, `1d4h`: that long before now (whole seconds).
    Ago(Duration),
    /// An RFC 3339 instant, in µs since the epoch (UTC).
    At(i64),
}

mod display;
mod expr;

pub use expr::{AGGREGATES, BinaryOp, Expr, ExprKind};
