//! What may come next at the end of a partly typed statement, for the REPL's tab completion:
//! commands, families, field names of the family being shown, hostnames, and time words.

use sonde_schema::TableDef;

use crate::ast::KEYWORDS;
use crate::family::{CHECK_FAMILIES, SHOW_FAMILIES, family_prefixes};

/// The words that complete the last word of `line`: every candidate that starts with it.
/// `hostnames` are the nodes the store knows; `tables` the catalog.
pub fn candidates(line: &str, hostnames: &[String], tables: &[&'static TableDef]) -> Vec<String> {
    let ends_in_space = line.ends_with(char::is_whitespace);
    let words: Vec<String> = line
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let (before, partial) = match (ends_in_space, words.split_last()) {
        (false, Some((last, rest))) => (rest.to_vec(), last.clone()),
        _ => (words.clone(), String::new()),
    };
    let mut options: Vec<String> = next_words(&before, hostnames, tables);
    options.retain(|o| o.to_ascii_lowercase().starts_with(&partial));
    options.sort();
    options.dedup();
    options
}

fn next_words(
    before: &[String],
    hostnames: &[String],
    tables: &[&'static TableDef],
) -> Vec<String> {
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let Some(previous) = before.last() else {
        let mut first = owned(&[
            "check", "show", "describe", "select", "explain", "help", "quit",
        ]);
        first.extend(hostnames.iter().cloned());
        return first;
    };
    if let Some((_, seconds)) = family_prefixes()
        .into_iter()
        .find(|(first, _)| *first == previous.as_str())
        && before.len() >= 2
        && ["show", "type"].contains(&before[before.len() - 2].as_str())
    {
        return owned(&seconds);
    }
    match previous.as_str() {
        "check" => owned(&CHECK_FAMILIES),
        "show" => {
            let mut words: Vec<String> = SHOW_FAMILIES
                .iter()
                .map(|f| f.split(' ').next().unwrap_or(f).to_string())
                .collect();
            words.extend(owned(&["changes", "events", "tables"]));
            words
        }
        "describe" | "from" => tables.iter().map(|t| t.name.to_string()).collect(),
        "around" | "between" | "and" => owned(&["now", "10m", "1h", "10h", "1d", "1w"]),
        "explain" => owned(&["check", "show", "select"]),
        "type" => owned(&SHOW_FAMILIES),
        "level" => owned(&["info", "warning", "error", "critical"]),
        word if is_hostname_list(word, hostnames) => owned(&["check", "show"]),
        _ => after_family(before, tables),
    }
}

fn is_hostname_list(word: &str, hostnames: &[String]) -> bool {
    word.split(',')
        .all(|h| h.contains(['*', '?', '[']) || hostnames.iter().any(|n| n.eq_ignore_ascii_case(h)))
}

/// After `show <family> …`: the family's field names, then the time and output words.
fn after_family(before: &[String], tables: &[&'static TableDef]) -> Vec<String> {
    let mut words: Vec<String> = ["around", "between", "json", "changes"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let family = before
        .iter()
        .skip_while(|w| *w != "show" && *w != "select" && *w != "where")
        .nth(1);
    if let Some(table) = family.and_then(|f| tables.iter().find(|t| t.name == f.as_str())) {
        words.extend(
            table
                .key_columns()
                .chain(table.values.iter().map(|c| c.name))
                .map(str::to_string),
        );
    }
    words.extend(
        KEYWORDS
            .iter()
            .filter(|k| ["where", "and", "group", "order", "limit"].contains(k))
            .map(|s| s.to_string()),
    );
    words
}
