//! The words of a statement read as what they stand for: names, whole numbers, values (a glob,
//! a number, a MAC, an address, a prefix or a plain word) and times.

use std::net::IpAddr;

use chrono::DateTime;

use super::RawWord;
use crate::ast::*;
use crate::parse_error::ParseError;
use crate::time::{TimeError, parse_duration};

/// A field, column or table name: an unquoted identifier, lower-cased.
pub(crate) fn name(word: RawWord) -> Result<Name, ParseError> {
    name_with(&word, "a name (letters, digits and `_`)")
}

pub(super) fn name_with(word: &RawWord, expected: &str) -> Result<Name, ParseError> {
    if word.quoted || !is_identifier(&word.text) {
        return Err(word.unexpected(expected));
    }
    Ok(Name {
        text: word.lowercase(),
        span: word.span,
    })
}

pub(super) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A whole number, as after `limit`.
pub(crate) fn number(word: RawWord) -> Result<Number, ParseError> {
    number_with(&word, "a number")
}

pub(super) fn number_with(word: &RawWord, expected: &str) -> Result<Number, ParseError> {
    match value(word.clone()).kind {
        ValueKind::Number(value) => Ok(Number {
            value,
            span: word.span,
        }),
        _ => Err(word.unexpected(expected)),
    }
}

/// Classifies a word; see [`ValueKind`] for the order.
pub(crate) fn value(word: RawWord) -> Value {
    let kind = if word.quoted {
        ValueKind::Str(word.text)
    } else {
        classify(word.text)
    };
    Value {
        kind,
        span: word.span,
    }
}

fn classify(text: String) -> ValueKind {
    if is_glob(&text) {
        return ValueKind::Glob(text);
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse() {
            Ok(n) => ValueKind::Number(n),
            Err(_) => ValueKind::Word(text),
        };
    }
    if let Some(mac) = parse_mac(&text) {
        return ValueKind::Mac(mac);
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return ValueKind::Ip(addr);
    }
    match parse_prefix(&text) {
        Some((addr, len)) => ValueKind::Prefix { addr, len },
        None => ValueKind::Word(text),
    }
}

/// `44:38:39:00:00:01`: six pairs of hex digits.
fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut groups = text.split(':');
    for byte in &mut mac {
        let group = groups.next()?;
        if group.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(group, 16).ok()?;
    }
    groups.next().is_none().then_some(mac)
}

/// `10.0.0.0/24`, `2001:db8::/32`: an address and a length that fits it.
fn parse_prefix(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    if !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

/// `now`, a duration ago (`10h`, `1d4h`), or an RFC 3339 instant. Not resolved against the clock.
pub(crate) fn when(word: RawWord) -> Result<When, ParseError> {
    let span = word.span;
    let kind = when_kind(&word).map_err(|source| ParseError::InvalidTime { span, source })?;
    Ok(When { kind, span })
}

fn when_kind(word: &RawWord) -> Result<WhenKind, TimeError> {
    let text = word.text.as_str();
    if word.quoted {
        return Err(TimeError::Instant(word.shown()));
    }
    if text.eq_ignore_ascii_case("now") {
        return Ok(WhenKind::Now);
    }
    if let Ok(duration) = parse_duration(text) {
        return Ok(WhenKind::Ago(duration));
    }
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(WhenKind::At(instant.timestamp_micros()));
    }
    if looks_like_date(text) {
        Err(TimeError::Instant(text.to_string()))
    } else {
        Err(TimeError::Duration(text.to_string()))
    }
}

/// Starts like `2026-…`: meant as an instant, so the error should talk about instants.
fn looks_like_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 4 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-'
}
