//! A small JSON reader for `config.db`: an object of objects of strings (or `null`), with the
//! seed's `#` comments, trailing commas and every error at its line, column and token.
//!
//! `#` starts a comment only outside strings and runs to the end of the line. The seed writes
//! one value inside its comment (`"image":   # NOS installer file "http://…"`): when a key's
//! value is missing (the next token after the comments is `,` or `}`) and a comment on the
//! key's own line ends in a JSON string, that string is the value. A value written after the
//! comment, on a later line, is read as JSON reads it.

use std::path::Path;

use crate::error::{Result, ZtpError};

/// A string or `null`, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub text: Option<String>,
    pub line: usize,
    pub column: usize,
}

/// A key and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

/// The file as read: serials in file order, each with its keys in file order.
pub type Entries = Vec<(Key, Vec<(Key, Value)>)>;

/// Reads `text` (from `file`, for errors).
pub fn read(file: &Path, text: &str) -> Result<Entries> {
    let mut r = Reader { file, text, pos: 0 };
    r.skip_blank();
    if r.peek().is_none() {
        return Ok(Vec::new());
    }
    let mut serials = Vec::new();
    r.object(|r, key| {
        let fields = r.device()?;
        serials.push((key, fields));
        Ok(())
    })?;
    r.skip_blank();
    if r.peek().is_some() {
        return Err(r.error_here("expected the end of the file after the closing `}`"));
    }
    Ok(serials)
}

struct Reader<'a> {
    file: &'a Path,
    text: &'a str,
    pos: usize,
}

/// A comment skipped: its text (after `#`) and byte offset of that text.
struct Comment {
    start: usize,
    end: usize,
    line: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn error_at(&self, offset: usize, token: &str, message: &str) -> ZtpError {
        let (line, column) = self.line_column(offset);
        ZtpError::Syntax {
            file: self.file.to_path_buf(),
            line,
            column,
            token: token.to_string(),
            message: message.to_string(),
        }
    }

    /// An error at the next token (`end of file` when there is none).
    fn error_here(&self, message: &str) -> ZtpError {
        let token = self.token_text(self.pos);
        self.error_at(self.pos, &token, message)
    }

    fn token_text(&self, offset: usize) -> String {
        let rest = &self.text[offset..];
        match rest.chars().next() {
            None => "end of file".into(),
            Some(c) if "{}[],:".contains(c) => c.to_string(),
            Some(_) => rest
                .chars()
                .take_while(|c| !c.is_whitespace() && !"{}[],:".contains(*c))
                .take(40)
                .collect(),
        }
    }

    /// White space and comments, returning the comments.
    fn skip_blank(&mut self) -> Vec<Comment> {
        let mut comments = Vec::new();
        while let Some(c) = self.peek() {
            if c == '#' {
                let line = self.line_column(self.pos).0;
                self.bump();
                let start = self.pos;
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
                comments.push(Comment {
                    start,
                    end: self.pos,
                    line,
                });
            } else if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
        comments
    }

    fn expect(&mut self, c: char, message: &str) -> Result<()> {
        self.skip_blank();
        if self.peek() == Some(c) {
            self.bump();
            return Ok(());
        }
        Err(self.error_here(message))
    }

    /// `{ "key": VALUE, … }` with `each` reading the value after each key's `:`; a trailing
    /// comma is accepted.
    fn object(&mut self, mut each: impl FnMut(&mut Self, Key) -> Result<()>) -> Result<()> {
        self.expect('{', "expected `{`")?;
        loop {
            self.skip_blank();
            match self.peek() {
                Some('}') => {
                    self.bump();
                    return Ok(());
                }
                Some('"') => {}
                _ => return Err(self.error_here("expected a quoted key or `}`")),
            }
            let (line, column) = self.line_column(self.pos);
            let name = self.string()?;
            self.expect(':', "expected `:` after the key")?;
            each(self, Key { name, line, column })?;
            self.skip_blank();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {}
                _ => return Err(self.error_here("expected `,` or `}`")),
            }
        }
    }

    /// One serial's object.
    fn device(&mut self) -> Result<Vec<(Key, Value)>> {
        let mut fields = Vec::new();
        self.object(|r, key| {
            let value = r.value(key.line)?;
            fields.push((key, value));
            Ok(())
        })?;
        Ok(fields)
    }

    /// A string or `null` after a key's `:` on `key_line`, or the seed's value in a comment.
    fn value(&mut self, key_line: usize) -> Result<Value> {
        let comments = self.skip_blank();
        let (line, column) = self.line_column(self.pos);
        let at = |text| Value { text, line, column };
        match self.peek() {
            Some('"') => return Ok(at(Some(self.string()?))),
            Some('n') if self.text[self.pos..].starts_with("null") => {
                self.pos += 4;
                return Ok(at(None));
            }
            Some(',' | '}') => {
                let on_key_line = comments.iter().find(|c| c.line == key_line);
                if let Some(value) = on_key_line.and_then(|c| self.trailing_string(c)) {
                    return Ok(value);
                }
            }
            _ => {}
        }
        Err(self.error_here("expected a quoted string or null"))
    }

    /// The JSON string a comment ends with, if it ends with one.
    fn trailing_string(&self, comment: &Comment) -> Option<Value> {
        let body = &self.text[comment.start..comment.end];
        for (i, _) in body.match_indices('"') {
            let mut sub = Reader {
                file: self.file,
                text: &self.text[..comment.end],
                pos: comment.start + i,
            };
            let start = sub.pos;
            if let Ok(text) = sub.string()
                && self.text[sub.pos..comment.end].trim().is_empty()
            {
                let (line, column) = self.line_column(start);
                return Some(Value {
                    text: Some(text),
                    line,
                    column,
                });
            }
        }
        None
    }

    /// A JSON string from its opening quote, escapes decoded.
    fn string(&mut self) -> Result<String> {
        let open = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None | Some('\n') => return Err(self.error_at(open, "\"", "unterminated string")),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape(at)?),
                Some(c) if c.is_control() => {
                    return Err(self.error_at(
                        at,
                        &format!("{c:?}"),
                        "control character in a string",
                    ));
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self, at: usize) -> Result<char> {
        let bad = |r: &Self| {
            let end = (at + 2).min(r.text.len());
            let token = r.text.get(at..end).unwrap_or("\\");
            r.error_at(at, token, "unknown escape in a string")
        };
        Ok(match self.bump() {
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => return self.unicode(at),
            _ => return Err(bad(self)),
        })
    }

    /// `\uXXXX`, with a surrogate pair when the first is a high surrogate.
    fn unicode(&mut self, at: usize) -> Result<char> {
        let high = self.hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if !self.text[self.pos..].starts_with("\\u") {
                return Err(self.error_at(at, "\\u", "unpaired surrogate in a string"));
            }
            self.pos += 2;
            let low = self.hex4(at)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.error_at(at, "\\u", "unpaired surrogate in a string"));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| self.error_at(at, "\\u", "not a character"))
    }

    fn hex4(&mut self, at: usize) -> Result<u32> {
        let digits = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        match u32::from_str_radix(digits, 16) {
            Ok(v) if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(v)
            }
            _ => Err(self.error_at(at, "\\u", "expected four hex digits after `\\u`")),
        }
    }
}
