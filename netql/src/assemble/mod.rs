//! The grammar's actions: raw words to AST nodes, with the checks a context-free grammar cannot
//! make.
//!
//! The grammar reads `show`'s tail as a flat run of words and comparisons (`latency > 1000`),
//! because no LR(1) grammar can tell `show interfaces swp1 type swp` (a target, then a filter)
//! from `show interfaces type swp` (a filter) one word at a time. The rule used here: after the
//! family (two words for `ip …`, `ipv6 …` and `int …`), an odd number of words starts with a bare
//! target; the rest pair up as `<field> <value>`. Comparisons stand apart from the count; a
//! filter's canonical order is the pairs (and `=` comparisons, another spelling of a pair), then
//! the other comparisons as typed. Fields are not checked against the schema here; the planner
//! does that.
//!
//! Choices the design leaves open, made here:
//! - Families, field, column and table names and keywords are case-insensitive and stored in
//!   lower case; hostnames and values keep the case typed.
//! - Hostnames may prefix `check`, `show …`, `show changes` and `show events`; `trace` (which has
//!   `from`), `select` (which has `where`), `describe` and `show tables` take none.
//!   `describe` and `show tables` take no time either.
//! - A quoted value is a literal string, never a glob; globs are unquoted.
//! - `trace` takes `vrf` and `vlan` before or after `from` (NetQ writes `vlan` before it).
//! - An option may not be given twice, nor a filter field with the same operator (`latency > 10
//!   latency < 100` is a range).

mod words;

use crate::ast::*;
use crate::family::{CHECK_FAMILIES, SHOW_FAMILIES, family_prefixes};
use crate::parse_error::{ParseError, closest};

use words::{is_identifier, name_with, number_with};
pub(crate) use words::{name, number, value, when};

/// A word of the statement before it has a meaning: bare (`leaf01`, `10.0.0.1`) or quoted.
#[derive(Debug, Clone)]
pub(crate) struct RawWord {
    /// The text without quotes or escapes.
    pub text: String,
    pub quoted: bool,
    pub span: Span,
}

impl RawWord {
    pub fn bare(text: &str, span: Span) -> RawWord {
        RawWord {
            text: text.to_string(),
            quoted: false,
            span,
        }
    }

    /// A `"…"` or `'…'` token: drops the quotes, and the backslash of each `\x` escape.
    pub fn quoted(token: &str, span: Span) -> RawWord {
        let inner = token
            .get(1..token.len().saturating_sub(1))
            .unwrap_or_default();
        let mut text = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            text.push(if c == '\\' {
                chars.next().unwrap_or(c)
            } else {
                c
            });
        }
        RawWord {
            text,
            quoted: true,
            span,
        }
    }

    /// The word as it was typed, near enough for an error message.
    fn shown(&self) -> String {
        if self.quoted {
            format!("{:?}", self.text)
        } else {
            self.text.clone()
        }
    }

    fn lowercase(&self) -> String {
        self.text.to_ascii_lowercase()
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        ParseError::Unexpected {
            span: self.span,
            found: self.shown(),
            expected: expected.to_string(),
        }
    }
}

/// One item of `show`'s tail: a word, or a comparison of a field with a value.
#[derive(Debug, Clone)]
pub(crate) enum ShowWord {
    Word(RawWord),
    Compare {
        field: RawWord,
        op: CompareOp,
        value: RawWord,
        span: Span,
    },
}

/// Checks that the command takes the hostnames, time and filter it was given, and gives the
/// filter to the command.
pub(crate) fn query(
    hosts: Option<Hosts>,
    mut command: Command,
    time: Option<TimeClause>,
    filter: Option<Expr>,
    json: bool,
    span: Span,
) -> Result<Query, ParseError> {
    check_hosts_and_time(&hosts, &command, &time)?;
    if let Some(filter) = filter {
        match &mut command {
            Command::Check(check) => check.filter = Some(filter),
            Command::Show(show) => show.filter = Some(filter),
            _ => {
                return Err(ParseError::NotAllowed {
                    span: filter.span,
                    what: "`where`",
                    command: command.keyword(),
                });
            }
        }
    }
    Ok(Query {
        hosts,
        command,
        time,
        json,
        span,
    })
}

/// A `select`'s clauses after its table, as the grammar reads them.
#[derive(Debug)]
pub(crate) struct SelectTail {
    pub filter: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
    pub order_by: Vec<OrderKey>,
    pub limit: Option<Number>,
    pub offset: Option<Number>,
    /// Where the tail ends.
    pub end: usize,
}

/// `select <items> from <table> [between …] <tail> [around …]`: at most one time, hostnames
/// refused (a select filters `hostname` in its `where`).
pub(crate) fn select_query(
    hosts: Option<Hosts>,
    (items, table, start): (Vec<SelectItem>, Name, usize),
    between: Option<TimeClause>,
    tail: SelectTail,
    around: Option<TimeClause>,
    json: bool,
    span: Span,
) -> Result<Query, ParseError> {
    if let Some(having) = &tail.having
        && tail.group_by.is_empty()
        && !items.iter().any(|item| match &item.kind {
            SelectItemKind::Expr { expr, .. } => expr.has_aggregate(),
            SelectItemKind::All => false,
        })
        && !having.has_aggregate()
    {
        return Err(ParseError::NotAllowed {
            span: having.span,
            what: "`having` without `group by` or an aggregate",
            command: "select",
        });
    }
    if let (Some(_), Some(around)) = (&between, &around) {
        return Err(ParseError::Unexpected {
            span: around.span(),
            found: "around".to_string(),
            expected: "one time: this select has its `between` window already".to_string(),
        });
    }
    let select = Select {
        items,
        table,
        filter: tail.filter,
        group_by: tail.group_by,
        having: tail.having,
        order_by: tail.order_by,
        limit: tail.limit,
        offset: tail.offset,
        span: Span::new(start, tail.end),
    };
    let command = Command::Select(select);
    let time = between.or(around);
    check_hosts_and_time(&hosts, &command, &time)?;
    Ok(Query {
        hosts,
        command,
        time,
        json,
        span,
    })
}

fn check_hosts_and_time(
    hosts: &Option<Hosts>,
    command: &Command,
    time: &Option<TimeClause>,
) -> Result<(), ParseError> {
    if let Some(hosts) = hosts
        && !takes_hosts(command)
    {
        return Err(ParseError::NotAllowed {
            span: hosts.span,
            what: "hostnames",
            command: command.keyword(),
        });
    }
    if let Some(time) = time
        && !takes_time(command)
    {
        return Err(ParseError::NotAllowed {
            span: time.span(),
            what: "a time",
            command: command.keyword(),
        });
    }
    Ok(())
}

/// `left <op> right`.
pub(crate) fn binary(op: BinaryOp, left: Expr, right: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    )
}

/// `name([distinct] args)`: `*` only in `count(*)`, `distinct` only in `count(distinct x)`.
pub(crate) fn call(
    function: Name,
    distinct: bool,
    args: Vec<Expr>,
    span: Span,
) -> Result<Expr, ParseError> {
    let is_count = function.text == "count";
    if let Some(star) = args.iter().find(|arg| arg.kind == ExprKind::Star)
        && !(is_count && args.len() == 1)
    {
        return Err(ParseError::Unexpected {
            span: star.span,
            found: "*".to_string(),
            expected: format!(
                "an expression (`*` is only for `count(*)`), in `{}(…)`",
                function.text
            ),
        });
    }
    if distinct && !(is_count && args.len() == 1) {
        return Err(ParseError::Unexpected {
            span,
            found: "distinct".to_string(),
            expected: "one argument without `distinct`: only `count(distinct <expr>)` takes it"
                .to_string(),
        });
    }
    Ok(Expr::new(
        ExprKind::Call {
            function,
            distinct,
            args,
        },
        span,
    ))
}

fn takes_hosts(command: &Command) -> bool {
    matches!(
        command,
        Command::Check(_) | Command::Show(_) | Command::ShowChanges(_) | Command::ShowEvents(_)
    )
}

fn takes_time(command: &Command) -> bool {
    !matches!(command, Command::Describe(_) | Command::ShowTables(_))
}

/// `check <family>`.
pub(crate) fn check(family: RawWord, span: Span) -> Result<Check, ParseError> {
    let name = bare_word(&family, "a family to check")?;
    let family = find_family(
        &name,
        family.span,
        &CHECK_FAMILIES,
        "check family",
        CHECK_FAMILIES.to_vec(),
    )?;
    Ok(Check {
        family,
        filter: None,
        span,
    })
}

/// `show <words…> [changes]`: `show tables`, `show events …`, or `show <family> …`.
pub(crate) fn show(
    items: Vec<ShowWord>,
    changes: Option<Span>,
    span: Span,
) -> Result<Command, ParseError> {
    let (words, comparisons) = split_comparisons(items);
    let mut cursor = Cursor::new(&words);
    let (name, name_span) = match comparisons.first() {
        Some(first) if first.0 == 0 => return Err(first.1.field.unexpected("a family to show")),
        _ => family_words(&mut cursor, "a family to show")?,
    };
    if let Some((before, comparison)) = comparisons.first()
        && *before < cursor.next
    {
        // `show int latency > 5 hops`: a comparison inside the family's words.
        return Err(comparison.field.unexpected("the family's second word"));
    }
    let rest = cursor.rest();
    let comparisons: Vec<Comparison> = comparisons.into_iter().map(|(_, c)| c).collect();
    match name.as_str() {
        "tables" | "events" if !comparisons.is_empty() => {
            Err(comparisons[0].field.unexpected("no comparison here"))
        }
        "tables" => show_tables(rest, changes, span).map(Command::ShowTables),
        "events" => show_events(rest, changes, span).map(Command::ShowEvents),
        _ => {
            let family = find_family(
                &name,
                name_span,
                &SHOW_FAMILIES,
                "show family",
                show_topics(),
            )?;
            let (target, filters) = target_and_filters(rest, &comparisons)?;
            Ok(Command::Show(Show {
                family,
                target,
                filters,
                changes: changes.is_some(),
                filter: None,
                span,
            }))
        }
    }
}

/// A comparison of `show`'s tail, before its field and value are read.
struct Comparison {
    field: RawWord,
    op: CompareOp,
    value: RawWord,
    span: Span,
}

/// The words of `show`'s tail, and its comparisons each with the number of words before it.
fn split_comparisons(items: Vec<ShowWord>) -> (Vec<RawWord>, Vec<(usize, Comparison)>) {
    let (mut words, mut comparisons) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            ShowWord::Word(word) => words.push(word),
            ShowWord::Compare {
                field,
                op,
                value,
                span,
            } => comparisons.push((
                words.len(),
                Comparison {
                    field,
                    op,
                    value,
                    span,
                },
            )),
        }
    }
    (words, comparisons)
}

/// What may follow `show`: the families, then the other topics.
fn show_topics() -> Vec<&'static str> {
    let mut topics = SHOW_FAMILIES.to_vec();
    topics.extend(["changes", "events", "tables"]);
    topics
}

fn show_tables(
    rest: &[RawWord],
    changes: Option<Span>,
    span: Span,
) -> Result<ShowTables, ParseError> {
    if let Some(extra) = rest.first() {
        return Err(extra.unexpected("nothing after `show tables`"));
    }
    reject_changes(changes, "show tables")?;
    Ok(ShowTables { span })
}

fn reject_changes(changes: Option<Span>, command: &'static str) -> Result<(), ParseError> {
    match changes {
        Some(span) => Err(ParseError::NotAllowed {
            span,
            what: "`changes`",
            command,
        }),
        None => Ok(()),
    }
}

/// `show changes [type <family>]`.
pub(crate) fn show_changes(words: Vec<RawWord>, span: Span) -> Result<ShowChanges, ParseError> {
    let mut family = None;
    let mut cursor = Cursor::new(&words);
    while let Some(option) = cursor.next() {
        match option_name(option, "show changes option", &["type"])? {
            "type" => set_once(&mut family, option, type_family(&mut cursor, option)?)?,
            _ => return Err(option.unexpected("`type`")),
        }
    }
    Ok(ShowChanges { family, span })
}

/// `show events [type <family>] [level <severity>]`, options in any order.
fn show_events(
    rest: &[RawWord],
    changes: Option<Span>,
    span: Span,
) -> Result<ShowEvents, ParseError> {
    reject_changes(changes, "show events")?;
    let (mut family, mut level) = (None, None);
    let mut cursor = Cursor::new(rest);
    while let Some(option) = cursor.next() {
        match option_name(option, "show events option", &["type", "level"])? {
            "type" => set_once(&mut family, option, type_family(&mut cursor, option)?)?,
            "level" => set_once(&mut level, option, event_level(&mut cursor, option)?)?,
            _ => return Err(option.unexpected("`type` or `level`")),
        }
    }
    Ok(ShowEvents {
        family,
        level,
        span,
    })
}

/// The option's name if it is one of `known`.
fn option_name(
    option: &RawWord,
    what: &'static str,
    known: &'static [&'static str],
) -> Result<&'static str, ParseError> {
    let name = option.lowercase();
    match known.iter().copied().find(|k| *k == name) {
        Some(known_name) if !option.quoted => Ok(known_name),
        _ => Err(unknown(what, option, known.to_vec())),
    }
}

fn set_once<T>(slot: &mut Option<T>, option: &RawWord, value: T) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(ParseError::Duplicate {
            span: option.span,
            option: option.lowercase(),
        });
    }
    *slot = Some(value);
    Ok(())
}

/// The family after `type`.
fn type_family(cursor: &mut Cursor<'_>, option: &RawWord) -> Result<Family, ParseError> {
    if cursor.peek().is_none() {
        return Err(missing_after(option, "a family"));
    }
    let (name, span) = family_words(cursor, "a family")?;
    find_family(
        &name,
        span,
        &SHOW_FAMILIES,
        "family",
        SHOW_FAMILIES.to_vec(),
    )
}

/// The severity after `level`.
fn event_level(cursor: &mut Cursor<'_>, option: &RawWord) -> Result<Level, ParseError> {
    let word = cursor
        .next()
        .ok_or_else(|| missing_after(option, "a severity (info, warning, error, critical)"))?;
    match Severity::from_name(&word.text) {
        Some(severity) if !word.quoted => Ok(Level {
            severity,
            span: word.span,
        }),
        _ => Err(unknown("event level", word, EVENT_LEVELS.to_vec())),
    }
}

/// Reads a family name: one word, or two for `ip …`, `ipv6 …` and `int …`. Lower-cased.
fn family_words(cursor: &mut Cursor<'_>, expected: &str) -> Result<(String, Span), ParseError> {
    let Some(first) = cursor.next() else {
        return Err(ParseError::UnexpectedEnd {
            span: Span::default(),
            expected: expected.to_string(),
        });
    };
    let name = bare_word(first, expected)?;
    let prefixes = family_prefixes();
    let Some((_, seconds)) = prefixes.iter().find(|(prefix, _)| *prefix == name) else {
        return Ok((name, first.span));
    };
    let expected = seconds
        .iter()
        .map(|second| format!("`{second}`"))
        .collect::<Vec<_>>();
    let expected = match expected.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => expected.concat(),
    };
    let second = cursor
        .next()
        .ok_or_else(|| missing_after(first, &expected))?;
    let kind = bare_word(second, &expected)?;
    Ok((format!("{name} {kind}"), first.span.to(second.span)))
}

fn find_family(
    name: &str,
    span: Span,
    families: &'static [&'static str],
    what: &'static str,
    known: Vec<&'static str>,
) -> Result<Family, ParseError> {
    match families.iter().copied().find(|family| *family == name) {
        Some(family) => Ok(Family { name: family, span }),
        None => Err(ParseError::Unknown {
            span,
            what,
            found: name.to_string(),
            suggestion: closest(name, &known),
            known,
        }),
    }
}

fn unknown(what: &'static str, word: &RawWord, known: Vec<&'static str>) -> ParseError {
    let found = word.shown();
    ParseError::Unknown {
        span: word.span,
        what,
        suggestion: closest(&word.lowercase(), &known),
        found,
        known,
    }
}

fn missing_after(word: &RawWord, expected: &str) -> ParseError {
    ParseError::Missing {
        span: Span::new(word.span.end, word.span.end),
        after: word.shown(),
        expected: expected.to_string(),
    }
}

/// An unquoted word, lower-cased; a quoted one is an error naming `expected`.
fn bare_word(word: &RawWord, expected: &str) -> Result<String, ParseError> {
    if word.quoted {
        return Err(word.unexpected(expected));
    }
    Ok(word.lowercase())
}

/// Splits `show`'s words after the family into a bare target (when their count is odd) and
/// `<field> <value>` pairs, then adds the comparisons: `=` ones with the pairs, the others after.
fn target_and_filters(
    words: &[RawWord],
    comparisons: &[Comparison],
) -> Result<(Option<Value>, Vec<Filter>), ParseError> {
    let (target, pairs) = match words {
        [first, rest @ ..] if words.len() % 2 == 1 => (Some(value(first.clone())), rest),
        _ => (None, words),
    };
    if let ([first, ..], Some(last)) = (pairs, pairs.last())
        && target.is_none()
        && !is_identifier(&first.text)
    {
        // `show ip routes 10.0.0.0/24 vrf`: a target, then a field without its value.
        return Err(missing_after(last, "a value"));
    }
    let mut filters: Vec<Filter> = Vec::new();
    let pairs = pairs
        .chunks_exact(2)
        .map(|pair| filter(&pair[0], CompareOp::Eq, &pair[1]));
    let (matches, orderings): (Vec<&Comparison>, Vec<&Comparison>) =
        comparisons.iter().partition(|c| c.op == CompareOp::Eq);
    let compared = matches
        .into_iter()
        .chain(orderings)
        .map(|c| filter(&c.field, c.op, &c.value).map(|f| Filter { span: c.span, ..f }));
    for filter in pairs.chain(compared) {
        let filter = filter?;
        if filters
            .iter()
            .any(|f| f.field == filter.field && f.op == filter.op)
        {
            return Err(ParseError::Duplicate {
                span: filter.field.span,
                option: filter.field.text,
            });
        }
        filters.push(filter);
    }
    Ok((target, filters))
}

fn filter(field: &RawWord, op: CompareOp, value_word: &RawWord) -> Result<Filter, ParseError> {
    let field = name_with(field, "a field name such as `vrf`, `asn` or `state`")?;
    let value = value(value_word.clone());
    let span = field.span.to(value.span);
    Ok(Filter {
        field,
        op,
        value,
        span,
    })
}

/// `trace <destination> {option} from <source> {option}`.
pub(crate) fn trace(
    destination: RawWord,
    before: Vec<RawWord>,
    source: RawWord,
    after: Vec<RawWord>,
    span: Span,
) -> Result<Trace, ParseError> {
    let destination = trace_destination(destination)?;
    let source = trace_source(source)?;
    let (mut vrf, mut vlan, mut detail, mut bidir) = (None, None, None, None);
    for words in [&before, &after] {
        let mut cursor = Cursor::new(words);
        while let Some(option) = cursor.next() {
            let known = &["vrf", "vlan", "detail", "bidir"];
            match option_name(option, "trace option", known)? {
                "detail" => set_once(&mut detail, option, ())?,
                "bidir" => set_once(&mut bidir, option, ())?,
                name => {
                    let argument = cursor.next().ok_or_else(|| ParseError::Missing {
                        span: option.span,
                        after: name.to_string(),
                        expected: if name == "vrf" {
                            "a VRF name".into()
                        } else {
                            "a VLAN id from 1 to 4094".into()
                        },
                    })?;
                    match name {
                        "vrf" => set_once(&mut vrf, option, value(argument.clone()))?,
                        _ => set_once(&mut vlan, option, vlan_id(argument)?)?,
                    }
                }
            }
        }
    }
    Ok(Trace {
        destination,
        source,
        vrf,
        vlan,
        detail: detail.is_some(),
        bidir: bidir.is_some(),
        span,
    })
}

fn trace_destination(word: RawWord) -> Result<Value, ParseError> {
    let destination = value(word.clone());
    match destination.kind {
        ValueKind::Ip(_) | ValueKind::Mac(_) | ValueKind::Word(_) => Ok(destination),
        _ => Err(word.unexpected("an IP or MAC address or a hostname to trace")),
    }
}

fn trace_source(word: RawWord) -> Result<Value, ParseError> {
    let source = value(word.clone());
    match source.kind {
        ValueKind::Ip(_) | ValueKind::Word(_) => Ok(source),
        _ => Err(word.unexpected("a hostname or IP address to trace from")),
    }
}

fn vlan_id(word: &RawWord) -> Result<Number, ParseError> {
    const EXPECTED: &str = "a VLAN id from 1 to 4094";
    let id = number_with(word, EXPECTED)?;
    if !(1..=4094).contains(&id.value) {
        return Err(word.unexpected(EXPECTED));
    }
    Ok(id)
}

/// Walks a run of words one at a time.
struct Cursor<'a> {
    words: &'a [RawWord],
    next: usize,
}

impl<'a> Cursor<'a> {
    fn new(words: &'a [RawWord]) -> Cursor<'a> {
        Cursor { words, next: 0 }
    }

    fn next(&mut self) -> Option<&'a RawWord> {
        let word = self.words.get(self.next)?;
        self.next += 1;
        Some(word)
    }

    fn peek(&self) -> Option<&'a RawWord> {
        self.words.get(self.next)
    }

    fn rest(&self) -> &'a [RawWord] {
        self.words.get(self.next..).unwrap_or_default()
    }
}
