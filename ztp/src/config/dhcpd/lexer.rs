//! The tokens of `dhcpd.conf`, as isc-dhcp's `conflex.c` cuts them: punctuation, quoted strings
//! with isc's escapes, and words (everything else up to white space or punctuation, so an IP
//! address, a number, a MAC or hex bytes `00:1a:2b`, a name like `domain-name-servers` and a
//! bare host name are each one word). `#` starts a comment that runs to the end of the line.
//!
//! Every token keeps its 1-based line and column (counted in characters) and its source text,
//! so the parser's errors point at it.

use std::path::Path;

use crate::error::{Result, ZtpError};

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A bare word: a keyword, name, number, address, MAC or hex bytes.
    Word,
    /// A quoted string, its escapes decoded.
    Str(Vec<u8>),
    /// One of `{ } ; , ( ) =`.
    Punct(char),
    /// `!=`.
    NotEqual,
    /// The end of the text.
    Eof,
}

/// One token and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    /// The source text (a string with its quotes), or `end of file`.
    pub text: String,
    pub line: usize,
    pub column: usize,
}

impl Token {
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }
}

const PUNCT: &[char] = &['{', '}', ';', ',', '(', ')', '='];

/// Cuts `text` into tokens, ending with one [`Kind::Eof`].
pub fn tokenize(file: &Path, text: &str) -> Result<Vec<Token>> {
    let mut lexer = Lexer {
        file,
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let end = token.kind == Kind::Eof;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    file: &'a Path,
    chars: Vec<char>,
    pos: usize,
    line: usize,
    column: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if c.is_whitespace() {
                self.bump();
            } else {
                return;
            }
        }
    }

    fn next_token(&mut self) -> Result<Token> {
        self.skip_blank();
        let (line, column, start) = (self.line, self.column, self.pos);
        let token = |kind, text: String| Token {
            kind,
            text,
            line,
            column,
        };
        let Some(c) = self.peek() else {
            return Ok(token(Kind::Eof, "end of file".into()));
        };
        if PUNCT.contains(&c) {
            self.bump();
            return Ok(token(Kind::Punct(c), c.to_string()));
        }
        if c == '!' {
            self.bump();
            if self.peek() == Some('=') {
                self.bump();
                return Ok(token(Kind::NotEqual, "!=".into()));
            }
            return Err(self.error(line, column, "!", "expected `!=`"));
        }
        if c == '"' {
            let value = self.string(line, column)?;
            let text: String = self.chars[start..self.pos].iter().collect();
            return Ok(token(Kind::Str(value), text));
        }
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && !PUNCT.contains(&c) && !"\"#!".contains(c))
        {
            self.bump();
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        Ok(token(Kind::Word, text))
    }

    /// A quoted string from its opening quote: `\"`, `\\`, `\n`, `\r`, `\t`, `\NNN` octal and
    /// `\xHH` hex (isc's escapes); anything else after `\` is refused.
    fn string(&mut self, line: usize, column: usize) -> Result<Vec<u8>> {
        self.bump();
        let mut value = Vec::new();
        loop {
            let (esc_line, esc_column) = (self.line, self.column);
            match self.bump() {
                None => return Err(self.error(line, column, "\"", "unterminated string")),
                Some('"') => return Ok(value),
                Some('\\') => self.escape(&mut value, esc_line, esc_column)?,
                Some(c) => {
                    let mut buf = [0u8; 4];
                    value.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }

    fn escape(&mut self, value: &mut Vec<u8>, line: usize, column: usize) -> Result<()> {
        let Some(c) = self.bump() else {
            return Err(self.error(line, column, "\\", "unterminated string"));
        };
        let byte = match c {
            '"' => b'"',
            '\\' => b'\\',
            'n' => b'\n',
            'r' => b'\r',
            't' => b'\t',
            '0'..='7' => self.number(c, 8, 3, line, column)?,
            'x' => match self.peek().filter(char::is_ascii_hexdigit) {
                Some(first) => {
                    self.bump();
                    self.number(first, 16, 2, line, column)?
                }
                None => {
                    return Err(self.error(line, column, "\\x", "expected hex digits after `\\x`"));
                }
            },
            other => {
                return Err(self.error(
                    line,
                    column,
                    &format!("\\{other}"),
                    "unknown escape (isc-dhcp knows \\\" \\\\ \\n \\r \\t \\NNN and \\xHH)",
                ));
            }
        };
        value.push(byte);
        Ok(())
    }

    /// Up to `max` digits in `radix`, the first already read.
    fn number(
        &mut self,
        first: char,
        radix: u32,
        max: usize,
        line: usize,
        column: usize,
    ) -> Result<u8> {
        let mut digits = first.to_string();
        while digits.len() < max && self.peek().is_some_and(|c| c.is_digit(radix)) {
            if let Some(c) = self.bump() {
                digits.push(c);
            }
        }
        u8::from_str_radix(&digits, radix).map_err(|_| {
            self.error(
                line,
                column,
                &format!("\\{digits}"),
                "escaped byte is over 255",
            )
        })
    }

    fn error(&self, line: usize, column: usize, token: &str, message: &str) -> ZtpError {
        ZtpError::Syntax {
            file: self.file.to_path_buf(),
            line,
            column,
            token: token.to_string(),
            message: message.to_string(),
        }
    }
}
