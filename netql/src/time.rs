//! Durations (`30s 10m 10h 2d 1w`) and NetQ's relative form of a span.

use std::time::Duration;

/// Why a time could not be read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("`{0}` is not a duration (use a number and one of s, m, h, d, w: 30s, 10m, 2d)")]
    Duration(String),
    #[error("`{0}` is not a time (use now, a duration ago like 10h, or RFC 3339)")]
    Instant(String),
}

/// Parses `30s`, `10m`, `10h`, `2d`, `1w`, or a sum like `1d4h`.
pub fn parse_duration(text: &str) -> Result<Duration, TimeError> {
    let invalid = || TimeError::Duration(text.to_string());
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(invalid()),
        };
        let n: u64 = digits.parse().map_err(|_| invalid())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 && !text.trim().starts_with('0') {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

/// NetQ's relative form of a span: `1d:4h:55m:0s`, `4h:0m:14s`, `14.83580s`.
pub fn format_span(micros: i64) -> String {
    let negative = micros < 0;
    let micros = micros.unsigned_abs();
    let secs = micros / 1_000_000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let text = if d > 0 {
        format!("{d}d:{h}h:{m}m:{s}s")
    } else if h > 0 {
        format!("{h}h:{m}m:{s}s")
    } else if m > 0 {
        format!("{m}m:{s}s")
    } else {
        format!("{}.{:06}s", s, micros % 1_000_000)
    };
    if negative { format!("-{text}") } else { text }
}
