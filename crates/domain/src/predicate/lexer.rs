//! Tokens of the predicate language, produced on demand by the parser.
//!
//! The lexer walks the input char by char and only ever slices it at offsets it reached that
//! way, so every slice falls on a char boundary; columns count chars.

use super::{CmpOp, PredicateError, SyntaxProblem};

/// A position in the input: byte offset plus 1-based line and column (in chars).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    LParen,
    RParen,
    Comma,
    Op(CmpOp),
    Str(String),
    Number(String),
    Var(String),
    /// A word: a field name or a keyword (keywords are recognized by the parser).
    Ident(String),
    Eof,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: Tok,
    pub start: Pos,
    pub end: usize,
}

pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: Pos,
}

/// Longest piece of input quoted in an error message, in chars.
const MAX_QUOTED: usize = 40;

/// `'text'`, invisible characters escaped, shortened when long.
pub(super) fn quote(text: &str) -> String {
    format!("'{}'", escape_shortened(text, MAX_QUOTED))
}

/// `text` as quoted in an error: invisible characters escaped, cut after `max_chars` chars
/// (marked by `…`).
pub(super) fn escape_shortened(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        match c {
            '\'' | '"' | '\\' => out.push(c),
            // Control, format and other invisible characters as `\u{…}`, `\n`, …
            _ => out.extend(c.escape_debug()),
        }
    }
    out
}

pub(super) fn syntax_error(at: Pos, problem: SyntaxProblem) -> PredicateError {
    PredicateError::Syntax { problem, line: at.line, column: at.column }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// Words also take `-` and `.` so that `first-name` or `name.en` is reported whole as an
/// unknown field; no keyword may legally be followed directly by either.
fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '.'
}

pub(super) fn is_custom_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src, pos: Pos { offset: 0, line: 1, column: 1 } }
    }

    pub fn pos(&self) -> Pos {
        self.pos
    }

    pub fn reset(&mut self, pos: Pos) {
        self.pos = pos;
    }

    /// The input between two offsets the lexer reached (empty if they are not char boundaries,
    /// which cannot happen).
    pub fn text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos.offset..).unwrap_or("")
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn bump_while(&mut self, pred: impl Fn(char) -> bool) {
        while self.peek_char().is_some_and(&pred) {
            self.bump();
        }
    }

    pub fn skip_ws(&mut self) {
        self.bump_while(|c| c.is_ascii_whitespace());
    }

    /// Skips whitespace, then reads a custom field name `[A-Za-z0-9_-]+`, if one is there.
    pub fn custom_name(&mut self) -> Option<Token> {
        self.skip_ws();
        let start = self.pos;
        self.bump_while(is_custom_name_char);
        if self.pos.offset == start.offset {
            return None;
        }
        let name = self.text(start.offset, self.pos.offset).to_string();
        Some(self.token(Tok::Ident(name), start))
    }

    fn token(&self, kind: Tok, start: Pos) -> Token {
        Token { kind, start, end: self.pos.offset }
    }

    pub fn next_token(&mut self) -> Result<Token, PredicateError> {
        self.skip_ws();
        let start = self.pos;
        let Some(c) = self.bump() else {
            return Ok(self.token(Tok::Eof, start));
        };
        let kind = match c {
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            ',' => Tok::Comma,
            '=' => Tok::Op(CmpOp::Eq),
            '!' => {
                if self.peek_char() == Some('=') {
                    self.bump();
                    Tok::Op(CmpOp::Ne)
                } else {
                    return Err(syntax_error(start, SyntaxProblem::LoneBang));
                }
            }
            '<' => match self.peek_char() {
                Some('=') => {
                    self.bump();
                    Tok::Op(CmpOp::Le)
                }
                Some('>') => {
                    self.bump();
                    Tok::Op(CmpOp::Ne)
                }
                _ => Tok::Op(CmpOp::Lt),
            },
            '>' => {
                if self.peek_char() == Some('=') {
                    self.bump();
                    Tok::Op(CmpOp::Ge)
                } else {
                    Tok::Op(CmpOp::Gt)
                }
            }
            '"' => Tok::Str(self.string_body(start)?),
            ':' => {
                self.bump_while(is_var_char);
                if self.pos.offset == start.offset + 1 {
                    return Err(syntax_error(start, SyntaxProblem::EmptyVariable));
                }
                Tok::Var(self.text(start.offset + 1, self.pos.offset).to_string())
            }
            '-' | '0'..='9' => Tok::Number(self.number(start, c)?),
            c if is_ident_start(c) => {
                self.bump_while(is_ident_continue);
                Tok::Ident(self.text(start.offset, self.pos.offset).to_string())
            }
            '\'' => return Err(syntax_error(start, SyntaxProblem::SingleQuote)),
            other => return Err(syntax_error(start, SyntaxProblem::InvalidCharacter(other))),
        };
        Ok(self.token(kind, start))
    }

    /// After the first char (`-` or a digit) of a number.
    fn number(&mut self, start: Pos, first: char) -> Result<String, PredicateError> {
        if first == '-' && !self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
            return Err(syntax_error(start, SyntaxProblem::LoneMinus));
        }
        self.bump_while(|c| c.is_ascii_digit());
        if self.peek_char() == Some('.') && self.peek_second().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            self.bump_while(|c| c.is_ascii_digit());
        }
        let end = self.pos.offset;
        if self.peek_char().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            self.bump_while(|c| c.is_alphanumeric() || c == '_' || c == '.');
            let text = self.text(start.offset, self.pos.offset);
            return Err(syntax_error(start, SyntaxProblem::InvalidNumber(text.to_owned())));
        }
        Ok(self.text(start.offset, end).to_string())
    }

    /// After the opening quote.
    fn string_body(&mut self, start: Pos) -> Result<String, PredicateError> {
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(syntax_error(start, SyntaxProblem::UnterminatedString)),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape(start, at)?),
                Some(c) => out.push(c),
            }
        }
    }

    /// After a backslash at `at`.
    fn escape(&mut self, start: Pos, at: Pos) -> Result<char, PredicateError> {
        let c = match self.bump() {
            None => return Err(syntax_error(start, SyntaxProblem::UnterminatedString)),
            Some(c) => c,
        };
        Ok(match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.unicode_escape(at),
            other => return Err(syntax_error(at, SyntaxProblem::InvalidEscape(other))),
        })
    }

    /// After `\u` (the backslash at `at`): 4 hex digits, and a second `\uXXXX` for a pair.
    fn unicode_escape(&mut self, at: Pos) -> Result<char, PredicateError> {
        let bad = || syntax_error(at, SyntaxProblem::InvalidUnicodeEscape);
        let high = self.hex4().ok_or_else(bad)?;
        let code = match high {
            0xD800..=0xDBFF => {
                if self.bump() != Some('\\') || self.bump() != Some('u') {
                    return Err(bad());
                }
                let low = self.hex4().ok_or_else(bad)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(bad());
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(bad()),
            c => c,
        };
        char::from_u32(code).ok_or_else(bad)
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = self.peek_char()?.to_digit(16)?;
            self.bump();
            value = value * 16 + digit;
        }
        Some(value)
    }
}
