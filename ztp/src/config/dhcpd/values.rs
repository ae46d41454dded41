//! Values and expressions: `option` declarations and settings, addresses, MACs, hex bytes,
//! numbers, booleans, and the `match if` conditions of classes.
//!
//! Sonde does not resolve host names while reading the file: where isc takes a domain name
//! for an address (`option routers gw.local`, `fixed-address leaf01.local`) Sonde refuses it
//! and says so; a text option keeps a bare word as its text (`option host-name LEAF01`).

use std::net::Ipv4Addr;

use super::lexer::{Kind, Token};
use super::parser::{Body, Parser, Scope};
use crate::config::model::{Condition, OptionDef, OptionKind, OptionValue};
use crate::error::Result;

/// One side of a `match if` comparison.
enum Operand {
    Option(u8),
    Substring {
        code: u8,
        offset: usize,
        length: usize,
    },
    Constant(Vec<u8>),
}

impl Parser<'_> {
    /// After `option`: a declaration `NAME code N = TYPE;` or a setting `NAME VALUE;`.
    pub(super) fn option_statement(&mut self, scope: Scope, body: &mut Body) -> Result<()> {
        let name = self.word("an option name")?;
        if name.is_word("space") {
            return self.skip_to_semi();
        }
        if self.peek().is_word("code") {
            return self.declaration(&name);
        }
        let def = self.resolve(&name)?;
        if self.peek().is_punct('=') {
            // isc's expression form, `option NAME = VALUE;`, as ONIE's documentation writes it;
            // only a constant value is taken.
            self.next();
            let call = self
                .tokens
                .get(self.pos + 1)
                .is_some_and(|t| t.is_punct('('));
            if self.peek().kind == Kind::Word && call {
                let message = format!(
                    "`{}(…)`: expressions are not supported after `option NAME =`; write a constant",
                    self.peek().text
                );
                return Err(self.error(self.peek(), message));
            }
        }
        let value = self.value(&def)?;
        self.semi()?;
        if scope == Scope::Host && def.code == 61 {
            body.client_id = Some(value.to_bytes());
        } else {
            body.params.options.set(def.code, value);
        }
        Ok(())
    }

    fn skip_to_semi(&mut self) -> Result<()> {
        while !self.peek().is_punct(';') {
            if matches!(self.peek().kind, Kind::Eof | Kind::Punct('{' | '}')) {
                let message = format!("expected `;` after `{}`", self.statement_text());
                return Err(self.error(self.peek(), message));
            }
            self.next();
        }
        self.next();
        Ok(())
    }

    /// The option called `name`, declared before this point or built in.
    pub(super) fn resolve(&self, name: &Token) -> Result<OptionDef> {
        if let Some(def) = self.table.lookup(&name.text) {
            return Ok(def);
        }
        let message = match self.declared_later.get(&name.text.to_ascii_lowercase()) {
            Some(line) => format!(
                "option `{}` is used before its declaration on line {line}; declare it first",
                name.text
            ),
            None => format!(
                "unknown option `{}`; declare it with `option {} code N = TYPE;`",
                name.text, name.text
            ),
        };
        Err(self.error(name, message))
    }

    /// `code N = TYPE;`
    fn declaration(&mut self, name: &Token) -> Result<()> {
        self.next();
        let code_token = self.word("an option code")?;
        let code = match code_token.text.parse::<u8>() {
            Ok(code) if (1..=254).contains(&code) => code,
            _ => {
                let message = format!("option code must be 1 to 254, found `{}`", code_token.text);
                return Err(self.error(&code_token, message));
            }
        };
        self.expect_punct('=')?;
        let kind = self.option_type()?;
        self.semi()?;
        self.table.declare(OptionDef {
            name: name.text.to_ascii_lowercase(),
            code,
            kind,
        });
        Ok(())
    }

    /// isc's type names that Sonde encodes.
    fn option_type(&mut self) -> Result<OptionKind> {
        let token = self.next();
        let unsupported = |p: &Self, t: &Token| {
            let message = format!(
                "option type `{}` is not supported (text, string, ip-address, array of ip-address, \
                 unsigned integer 8/16/32, signed integer 32, boolean)",
                p.statement_text()
            );
            p.error(t, message)
        };
        if token.is_punct('{') {
            return Err(self.error(&token, "record option types (`{ … }`) are not supported"));
        }
        if token.kind != Kind::Word {
            return Err(self.error(&token, "expected an option type"));
        }
        let kind = match token.text.to_ascii_lowercase().as_str() {
            "text" | "domain-name" => OptionKind::Text,
            "string" => OptionKind::Bytes,
            "ip-address" => OptionKind::IpAddresses,
            "boolean" => OptionKind::Bool,
            "array" => {
                self.keyword("of")?;
                let element = self.word("an option type")?;
                if !element.is_word("ip-address") {
                    return Err(unsupported(self, &element));
                }
                OptionKind::IpAddresses
            }
            "unsigned" | "signed" | "integer" => {
                let signed = !token.is_word("unsigned");
                if !token.is_word("integer") {
                    self.keyword("integer")?;
                }
                let width = self.word("an integer width")?;
                match (signed, width.text.as_str()) {
                    (false, "8") => OptionKind::U8,
                    (false, "16") => OptionKind::U16,
                    (false, "32") => OptionKind::U32,
                    (true, "32") => OptionKind::I32,
                    _ => return Err(unsupported(self, &width)),
                }
            }
            _ => return Err(unsupported(self, &token)),
        };
        Ok(kind)
    }

    /// A value of `def`'s kind, up to (not including) the `;`.
    fn value(&mut self, def: &OptionDef) -> Result<OptionValue> {
        Ok(match def.kind {
            OptionKind::Text if def.code == 119 => {
                let mut names = vec![self.text_value()?];
                while self.peek().is_punct(',') {
                    self.next();
                    names.push(self.text_value()?);
                }
                OptionValue::Text(names.join(" "))
            }
            OptionKind::Text => OptionValue::Text(self.text_value()?),
            OptionKind::IpAddresses => {
                let mut ips = vec![self.address()?];
                while self.peek().is_punct(',') {
                    self.next();
                    ips.push(self.address()?);
                }
                OptionValue::IpAddresses(ips)
            }
            OptionKind::U8 => OptionValue::U8(self.integer("an unsigned 8-bit integer")?),
            OptionKind::U16 => OptionValue::U16(self.integer("an unsigned 16-bit integer")?),
            OptionKind::U32 => OptionValue::U32(self.integer("an unsigned 32-bit integer")?),
            OptionKind::I32 => OptionValue::I32(self.integer("a signed 32-bit integer")?),
            OptionKind::Bool => OptionValue::Bool(self.boolean()?),
            OptionKind::Bytes => OptionValue::Bytes(self.bytes_value()?),
        })
    }

    /// A quoted string (UTF-8) or a bare word, as text.
    pub(super) fn text_value(&mut self) -> Result<String> {
        let token = self.next();
        match &token.kind {
            Kind::Word => Ok(token.text.clone()),
            Kind::Str(bytes) => String::from_utf8(bytes.clone())
                .map_err(|_| self.error(&token, "text is not UTF-8")),
            _ => {
                let message = format!("expected a string after `{}`", self.before(&token));
                Err(self.error(&token, message))
            }
        }
    }

    /// The statement text before `token` (already taken).
    fn before(&self, token: &Token) -> String {
        let _ = token;
        let end = self.pos.saturating_sub(1);
        let start = self.stmt_start.min(end);
        self.tokens[start..end]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// An IPv4 address; a host name is refused (Sonde does not resolve names in the file).
    pub(super) fn address(&mut self) -> Result<Ipv4Addr> {
        let token = self.next();
        if token.kind == Kind::Word {
            if let Ok(ip) = token.text.parse::<Ipv4Addr>() {
                return Ok(ip);
            }
            let looks_like_name = token.text.chars().any(|c| c.is_ascii_alphabetic());
            let message = if looks_like_name {
                format!(
                    "expected an IPv4 address, found `{}` (Sonde does not resolve host names in dhcpd.conf)",
                    token.text
                )
            } else {
                format!("expected an IPv4 address, found `{}`", token.text)
            };
            return Err(self.error(&token, message));
        }
        let message = format!("expected an IPv4 address after `{}`", self.before(&token));
        Err(self.error(&token, message))
    }

    fn integer<T: std::str::FromStr>(&mut self, what: &str) -> Result<T> {
        let token = self.next();
        if token.kind == Kind::Word
            && let Ok(v) = token.text.parse::<T>()
        {
            return Ok(v);
        }
        let message = format!("expected {what}, found `{}`", token.text);
        Err(self.error(&token, message))
    }

    pub(super) fn boolean(&mut self) -> Result<bool> {
        let token = self.next();
        match token.text.to_ascii_lowercase().as_str() {
            "true" | "on" if token.kind == Kind::Word => Ok(true),
            "false" | "off" if token.kind == Kind::Word => Ok(false),
            _ => {
                let message = format!("expected `true` or `false`, found `{}`", token.text);
                Err(self.error(&token, message))
            }
        }
    }

    /// Hex bytes `00:1a:2b` or a quoted string's bytes.
    fn bytes_value(&mut self) -> Result<Vec<u8>> {
        let token = self.next();
        match &token.kind {
            Kind::Str(bytes) => Ok(bytes.clone()),
            Kind::Word => hex_bytes(&token.text).ok_or_else(|| {
                let message = format!(
                    "expected hex bytes like `00:1a:2b` or a quoted string, found `{}`",
                    token.text
                );
                self.error(&token, message)
            }),
            _ => {
                let message = format!("expected a value after `{}`", self.before(&token));
                Err(self.error(&token, message))
            }
        }
    }

    /// `hardware ethernet MAC;` after `hardware`.
    pub(super) fn hardware(&mut self) -> Result<[u8; 6]> {
        let kind = self.word("a hardware type")?;
        if !kind.is_word("ethernet") {
            let message = format!(
                "hardware type `{}` is not supported; use `ethernet`",
                kind.text
            );
            return Err(self.error(&kind, message));
        }
        let token = self.next();
        let mac = (token.kind == Kind::Word)
            .then(|| hex_bytes(&token.text))
            .flatten()
            .and_then(|b| <[u8; 6]>::try_from(b).ok());
        let Some(mac) = mac else {
            let message = format!(
                "expected a MAC address like 48:65:ee:11:da:85, found `{}`",
                token.text
            );
            return Err(self.error(&token, message));
        };
        self.semi()?;
        Ok(mac)
    }

    /// `fixed-address A;` after `fixed-address`: one address per host.
    pub(super) fn fixed_address(&mut self) -> Result<Ipv4Addr> {
        let ip = self.address()?;
        if self.peek().is_punct(',') {
            return Err(self.error(
                self.peek(),
                "Sonde takes one fixed-address per host; write a host per address",
            ));
        }
        self.semi()?;
        Ok(ip)
    }

    // ---- conditions: or := and ("or" and)*; and := unary ("and" unary)*;
    //      unary := "not" unary | "(" or ")" | "exists" NAME | operand ("=" | "!=") operand ----

    pub(super) fn condition(&mut self) -> Result<Condition> {
        let mut left = self.cond_and()?;
        while self.peek().is_word("or") {
            self.next();
            let right = self.cond_and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn cond_and(&mut self) -> Result<Condition> {
        let mut left = self.cond_unary()?;
        while self.peek().is_word("and") {
            self.next();
            let right = self.cond_unary()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn cond_unary(&mut self) -> Result<Condition> {
        self.enter()?;
        let condition = self.cond_unary_inner();
        self.depth -= 1;
        condition
    }

    fn cond_unary_inner(&mut self) -> Result<Condition> {
        if self.peek().is_word("not") {
            self.next();
            return Ok(Condition::Not(Box::new(self.cond_unary()?)));
        }
        if self.peek().is_punct('(') {
            self.next();
            let inner = self.condition()?;
            self.expect_punct(')')?;
            return Ok(inner);
        }
        if self.peek().is_word("exists") {
            self.next();
            let name = self.word("an option name")?;
            let code = self.resolve(&name)?.code;
            return Ok(Condition::Exists { code });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Condition> {
        let start = self.peek().clone();
        let left = self.operand()?;
        let op = self.next();
        let negate = match op.kind {
            Kind::Punct('=') => false,
            Kind::NotEqual => true,
            _ => {
                let message = format!("expected `=` or `!=` after `{}`", self.before(&op));
                return Err(self.error(&op, message));
            }
        };
        let right = self.operand()?;
        let condition = match (left, right) {
            (Operand::Option(code), Operand::Constant(value))
            | (Operand::Constant(value), Operand::Option(code)) => {
                Condition::Equals { code, value }
            }
            (
                Operand::Substring {
                    code,
                    offset,
                    length,
                },
                Operand::Constant(value),
            )
            | (
                Operand::Constant(value),
                Operand::Substring {
                    code,
                    offset,
                    length,
                },
            ) => Condition::Substring {
                code,
                offset,
                length,
                value,
            },
            _ => {
                return Err(self.error(
                    &start,
                    "a comparison needs an option (or a substring of one) on one side and a constant on the other",
                ));
            }
        };
        Ok(if negate {
            Condition::Not(Box::new(condition))
        } else {
            condition
        })
    }

    fn operand(&mut self) -> Result<Operand> {
        let token = self.next();
        match &token.kind {
            Kind::Str(bytes) => return Ok(Operand::Constant(bytes.clone())),
            Kind::Word if token.is_word("option") => {
                let name = self.word("an option name")?;
                return Ok(Operand::Option(self.resolve(&name)?.code));
            }
            Kind::Word if token.is_word("substring") => return self.substring(),
            Kind::Word => {
                if let Some(bytes) = hex_bytes(&token.text) {
                    return Ok(Operand::Constant(bytes));
                }
            }
            _ => {}
        }
        let message = format!(
            "expected `option NAME`, `substring (option NAME, OFFSET, LENGTH)` or a constant, found `{}`",
            token.text
        );
        Err(self.error(&token, message))
    }

    /// `( option NAME , OFFSET , LENGTH )` after `substring`.
    fn substring(&mut self) -> Result<Operand> {
        self.expect_punct('(')?;
        let inner = self.peek().clone();
        let Operand::Option(code) = self.operand()? else {
            return Err(self.error(&inner, "Sonde's `substring` takes `option NAME`"));
        };
        self.expect_punct(',')?;
        let offset = self.integer::<usize>("an offset")?;
        self.expect_punct(',')?;
        let length = self.integer::<usize>("a length")?;
        self.expect_punct(')')?;
        Ok(Operand::Substring {
            code,
            offset,
            length,
        })
    }
}

/// `00:1a:2b` (one or two hex digits a byte, isc's form) as bytes; `None` if it is not that.
pub(super) fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    text.split(':')
        .map(|part| {
            if part.is_empty() || part.len() > 2 || !part.chars().all(|c| c.is_ascii_hexdigit()) {
                None
            } else {
                u8::from_str_radix(part, 16).ok()
            }
        })
        .collect()
}
