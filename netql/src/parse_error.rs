//! [`ParseError`]: what a statement's text got wrong, where, and what was expected instead,
//! with the underlined rendering and the "did you mean" suggestion. The parser and the grammar's
//! actions (`assemble`) both produce these errors; neither needs the other to name them.

use crate::ast::Span;
use crate::time::TimeError;

/// Why a statement could not be parsed. Each variant holds the span of the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A token that does not fit here.
    #[error("found `{found}`, expected {expected}")]
    Unexpected {
        span: Span,
        found: String,
        expected: String,
    },
    /// The statement stopped where more was needed.
    #[error("found the end of the statement, expected {expected}")]
    UnexpectedEnd { span: Span, expected: String },
    /// A word that needs another after it, and has none.
    #[error("expected {expected} after `{after}`")]
    Missing {
        span: Span,
        after: String,
        expected: String,
    },
    /// A quote with no closing quote.
    #[error("unterminated string: expected a closing {quote} to end the string that starts here")]
    UnterminatedString { span: Span, quote: char },
    /// A character no NetQL token holds.
    #[error(
        "found `{found}`, which NetQL does not use outside quotes (write \"…\" around such values)"
    )]
    InvalidCharacter { span: Span, found: char },
    /// A name outside a fixed list: a family, an option, a severity.
    #[error("unknown {what} `{found}`: expected one of {}{}", .known.join(", "), did_you_mean(.suggestion))]
    Unknown {
        span: Span,
        what: &'static str,
        found: String,
        known: Vec<&'static str>,
        suggestion: Option<&'static str>,
    },
    /// A time that is neither `now`, a duration nor an RFC 3339 instant.
    #[error("{source}")]
    InvalidTime { span: Span, source: TimeError },
    /// A part of a statement the command does not take, like hostnames before `describe`.
    #[error("{what} cannot be given to `{command}`")]
    NotAllowed {
        span: Span,
        what: &'static str,
        command: &'static str,
    },
    /// An option given twice.
    #[error("`{option}` is given twice")]
    Duplicate { span: Span, option: String },
}

fn did_you_mean(suggestion: &Option<&'static str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

impl ParseError {
    /// Where in the input the error is.
    pub fn span(&self) -> Span {
        match self {
            ParseError::Unexpected { span, .. }
            | ParseError::UnexpectedEnd { span, .. }
            | ParseError::Missing { span, .. }
            | ParseError::UnterminatedString { span, .. }
            | ParseError::InvalidCharacter { span, .. }
            | ParseError::Unknown { span, .. }
            | ParseError::InvalidTime { span, .. }
            | ParseError::NotAllowed { span, .. }
            | ParseError::Duplicate { span, .. } => *span,
        }
    }

    /// The message, the input line the error is on, and `^` under the offending text:
    ///
    /// ```text
    /// error: found `2h`, expected `and`
    ///   show bgp between 10h 2h
    ///                        ^^
    /// ```
    pub fn render(&self, input: &str) -> String {
        underline(&self.to_string(), input, self.span())
    }
}

/// `error: <message>`, the input line holding `span`, and `^` under the span.
pub(crate) fn underline(message: &str, input: &str, span: Span) -> String {
    let (line, before, width) = locate(input, span);
    let pad: String = before
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!(
        "error: {message}\n  {line}\n  {pad}{}",
        "^".repeat(width.max(1))
    )
}

/// The line holding `span.start`, the text of that line before it, and how many characters of
/// the span lie on that line. Offsets past the input, or inside a character, are clamped.
fn locate(input: &str, span: Span) -> (&str, &str, usize) {
    let start = floor_char_boundary(input, span.start);
    let end = floor_char_boundary(input, span.end.max(start));
    let line_start = input[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = input[start..].find('\n').map_or(input.len(), |i| start + i);
    let line = input[line_start..line_end].trim_end_matches('\r');
    let width = input[start..end.min(line_end)].chars().count();
    (line, &input[line_start..start], width)
}

pub(crate) fn floor_char_boundary(input: &str, offset: usize) -> usize {
    let mut offset = offset.min(input.len());
    while !input.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The known name within two edits of `name`, if there is one.
pub(crate) fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
