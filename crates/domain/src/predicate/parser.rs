//! The parser: an explicit stack of open groups instead of recursion, so the native stack
//! does not grow with the input.
//!
//! Each open group (the whole input, `( … )`, `not ( … )` or a nested `custom(fields( … ))`)
//! collects the operands of its current `and` chain and of its `or` chain; `and` binds
//! tighter than `or`, and `not` always takes a parenthesized operand. At most [`MAX_DEPTH`]
//! groups may be open at once.

use super::lexer::{syntax_error, Lexer, Pos, Tok, Token};
use super::{Expected, Expr, Field, PredicateError, SyntaxProblem, Value, MAX_DEPTH};
const KEYWORDS: &[&str] = &["and", "or", "not", "in", "is", "defined", "true", "false"];

/// Whether conditions name plain fields or, inside `custom(fields( … ))`, custom fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Top,
    Custom,
}

/// What opened a group, which says how it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opener {
    /// The whole input: closed by its end.
    Root,
    /// `(`: closed by `)`.
    Group,
    /// `not (`: closed by `)`, negated.
    Not,
    /// `custom(fields(`: closed by `))`.
    Custom,
}

struct Frame {
    opener: Opener,
    ctx: Ctx,
    or_operands: Vec<Expr>,
    and_operands: Vec<Expr>,
}

impl Frame {
    fn new(opener: Opener, ctx: Ctx) -> Self {
        Frame { opener, ctx, or_operands: Vec::new(), and_operands: Vec::new() }
    }
}

/// How a term starts: a whole condition, or a group to open.
enum Start {
    Term(Expr),
    Open(Opener, Ctx, Token),
}

/// One operand as itself, several as a chain node.
fn chain(mut operands: Vec<Expr>, node: fn(Vec<Expr>) -> Expr) -> Expr {
    if operands.len() == 1 {
        if let Some(only) = operands.pop() {
            return only;
        }
    }
    node(operands)
}

pub(super) struct Parser<'a> {
    lex: Lexer<'a>,
    peeked: Option<Token>,
    plain_fields: &'a [&'a str],
    allow_custom: bool,
}

fn is_kw(tok: &Token, kw: &str) -> bool {
    matches!(&tok.kind, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
}

impl<'a> Parser<'a> {
    pub fn new(src: &'a str, plain_fields: &'a [&'a str], allow_custom: bool) -> Self {
        Parser { lex: Lexer::new(src), peeked: None, plain_fields, allow_custom }
    }

    pub fn parse_predicate(mut self) -> Result<Expr, PredicateError> {
        let mut root = Frame::new(Opener::Root, Ctx::Top);
        let mut open: Vec<Frame> = Vec::new();
        'term: loop {
            let ctx = open.last().map_or(root.ctx, |frame| frame.ctx);
            let mut term = match self.start(ctx)? {
                Start::Term(expr) => expr,
                Start::Open(opener, ctx, tok) => {
                    if open.len() >= MAX_DEPTH {
                        return Err(PredicateError::TooDeep {
                            max: MAX_DEPTH,
                            line: tok.start.line,
                            column: tok.start.column,
                        });
                    }
                    open.push(Frame::new(opener, ctx));
                    continue 'term;
                }
            };
            // After a term: `and`, `or`, or the end of the innermost group (maybe several).
            loop {
                let frame = match open.last_mut() {
                    Some(frame) => frame,
                    None => &mut root,
                };
                frame.and_operands.push(term);
                let tok = self.peek()?;
                if is_kw(&tok, "and") {
                    self.next()?;
                    continue 'term;
                }
                if is_kw(&tok, "or") {
                    self.next()?;
                    let ands = std::mem::take(&mut frame.and_operands);
                    frame.or_operands.push(chain(ands, Expr::And));
                    continue 'term;
                }
                let mut frame = match open.pop() {
                    Some(frame) => frame,
                    None => std::mem::replace(&mut root, Frame::new(Opener::Root, Ctx::Top)),
                };
                frame.or_operands.push(chain(frame.and_operands, Expr::And));
                let expr = chain(frame.or_operands, Expr::Or);
                term = match frame.opener {
                    Opener::Root => {
                        let tok = self.next()?;
                        return if tok.kind == Tok::Eof {
                            Ok(expr)
                        } else {
                            Err(self.unexpected(&tok, Expected::AndOrEnd))
                        };
                    }
                    Opener::Group => {
                        self.expect_rparen(Expected::AndOrClose)?;
                        expr
                    }
                    Opener::Not => {
                        self.expect_rparen(Expected::AndOrClose)?;
                        Expr::Not(Box::new(expr))
                    }
                    Opener::Custom => {
                        self.expect_rparen(Expected::AndOrClose)?;
                        self.expect_rparen(Expected::Close)?;
                        expr
                    }
                };
            }
        }
    }

    fn peek(&mut self) -> Result<Token, PredicateError> {
        if let Some(tok) = &self.peeked {
            return Ok(tok.clone());
        }
        let tok = self.lex.next_token()?;
        self.peeked = Some(tok.clone());
        Ok(tok)
    }

    fn next(&mut self) -> Result<Token, PredicateError> {
        match self.peeked.take() {
            Some(tok) => Ok(tok),
            None => self.lex.next_token(),
        }
    }

    /// Forgets the lookahead token, moving the lexer back to its start.
    fn unpeek(&mut self) {
        if let Some(tok) = self.peeked.take() {
            self.lex.reset(tok.start);
        }
    }

    fn rewind(&mut self, pos: Pos) {
        self.peeked = None;
        self.lex.reset(pos);
    }

    fn unexpected(&self, tok: &Token, expected: Expected) -> PredicateError {
        let found = (tok.kind != Tok::Eof).then(|| self.lex.text(tok.start.offset, tok.end).to_owned());
        syntax_error(tok.start, SyntaxProblem::Unexpected { found, expected })
    }

    fn expect_rparen(&mut self, expected: Expected) -> Result<(), PredicateError> {
        let tok = self.next()?;
        if tok.kind == Tok::RParen {
            Ok(())
        } else {
            Err(self.unexpected(&tok, expected))
        }
    }

    /// After `not`: its `(`.
    fn not_paren(&mut self, ctx: Ctx) -> Result<Start, PredicateError> {
        let open = self.next()?;
        if open.kind != Tok::LParen {
            return Err(self.unexpected(&open, Expected::OpenAfterNot));
        }
        Ok(Start::Open(Opener::Not, ctx, open))
    }

    /// The start of a term: a condition, or the opening of a group.
    fn start(&mut self, ctx: Ctx) -> Result<Start, PredicateError> {
        if ctx == Ctx::Custom {
            return self.custom_start();
        }
        let tok = self.next()?;
        match &tok.kind {
            Tok::LParen => Ok(Start::Open(Opener::Group, ctx, tok)),
            Tok::Ident(word) if word.eq_ignore_ascii_case("not") => self.not_paren(ctx),
            Tok::Ident(word) => self.plain_condition(&tok, word),
            _ => Err(self.unexpected(&tok, Expected::Condition)),
        }
    }

    /// The start of a term inside `custom(fields( … ))`, where words are custom field names.
    fn custom_start(&mut self) -> Result<Start, PredicateError> {
        self.unpeek();
        if let Some(Token { kind: Tok::Ident(name), .. }) = self.lex.custom_name() {
            // `not (` is negation; a field named `not` cannot be followed by `(`.
            if name.eq_ignore_ascii_case("not") && self.peek()?.kind == Tok::LParen {
                return self.not_paren(Ctx::Custom);
            }
            return Ok(Start::Term(self.tail(Field::Custom(name))?));
        }
        let tok = self.next()?;
        match tok.kind {
            Tok::LParen => Ok(Start::Open(Opener::Group, Ctx::Custom, tok)),
            _ => Err(self.unexpected(&tok, Expected::CustomCondition)),
        }
    }

    /// A condition starting with the word `word` (the token `tok`, already consumed).
    fn plain_condition(&mut self, tok: &Token, word: &str) -> Result<Start, PredicateError> {
        if self.allow_custom && word == "custom" {
            return self.custom_condition();
        }
        if let Some(field) = self.plain_fields.iter().find(|f| **f == word) {
            return Ok(Start::Term(self.tail(Field::Plain((*field).to_string()))?));
        }
        if KEYWORDS.iter().any(|kw| word.eq_ignore_ascii_case(kw)) {
            return Err(self.unexpected(tok, Expected::Condition));
        }
        Err(PredicateError::UnknownField(word.to_string()))
    }

    /// After `custom`: `(fields(name)) tail`, `(fields(name) tail)`, or `(fields(` opening a
    /// nested expression.
    fn custom_condition(&mut self) -> Result<Start, PredicateError> {
        let tok = self.next()?;
        if tok.kind != Tok::LParen {
            return Err(self.unexpected(&tok, Expected::OpenAfterCustom));
        }
        let tok = self.next()?;
        if tok.kind != Tok::Ident("fields".to_string()) {
            return Err(self.unexpected(&tok, Expected::Fields));
        }
        let open = self.next()?;
        if open.kind != Tok::LParen {
            return Err(self.unexpected(&open, Expected::OpenAfterFields));
        }
        // Outer form `custom(fields(name)) tail`, or inner form `custom(fields(name) tail)`.
        let save = self.lex.pos();
        if let Some(Token { kind: Tok::Ident(name), .. }) = self.lex.custom_name() {
            if self.peek()?.kind == Tok::RParen {
                self.next()?;
                if self.peek()?.kind == Tok::RParen {
                    self.next()?;
                    return Ok(Start::Term(self.tail(Field::Custom(name))?));
                }
                let term = self.tail(Field::Custom(name))?;
                self.expect_rparen(Expected::Close)?;
                return Ok(Start::Term(term));
            }
        }
        // Nested form: `custom(fields(name tail …))`.
        self.rewind(save);
        Ok(Start::Open(Opener::Custom, Ctx::Custom, open))
    }

    /// What follows a field: an operator and its operand(s).
    fn tail(&mut self, field: Field) -> Result<Expr, PredicateError> {
        let tok = self.next()?;
        match &tok.kind {
            Tok::Op(op) => Ok(Expr::Cmp { field, op: *op, value: self.value()? }),
            _ if is_kw(&tok, "in") => Ok(Expr::In { field, negated: false, values: self.in_values()? }),
            _ if is_kw(&tok, "not") => {
                let tok = self.next()?;
                if !is_kw(&tok, "in") {
                    return Err(self.unexpected(&tok, Expected::InAfterNot));
                }
                Ok(Expr::In { field, negated: true, values: self.in_values()? })
            }
            _ if is_kw(&tok, "is") => {
                let mut tok = self.next()?;
                let negated = is_kw(&tok, "not");
                if negated {
                    tok = self.next()?;
                }
                if !is_kw(&tok, "defined") {
                    let expected = if negated { Expected::Defined } else { Expected::DefinedOrNotDefined };
                    return Err(self.unexpected(&tok, expected));
                }
                Ok(Expr::Defined { field, negated })
            }
            _ => Err(self.unexpected(&tok, Expected::Operator)),
        }
    }

    /// After `in`: `:var` or `( value, … )`.
    fn in_values(&mut self) -> Result<Vec<Value>, PredicateError> {
        let tok = self.next()?;
        match tok.kind {
            Tok::Var(name) => Ok(vec![Value::Var(name)]),
            Tok::LParen => {
                let mut values = vec![self.value()?];
                loop {
                    let tok = self.next()?;
                    match tok.kind {
                        Tok::Comma => values.push(self.value()?),
                        Tok::RParen => return Ok(values),
                        _ => return Err(self.unexpected(&tok, Expected::CommaOrClose)),
                    }
                }
            }
            _ => Err(self.unexpected(&tok, Expected::InOperand)),
        }
    }

    fn value(&mut self) -> Result<Value, PredicateError> {
        let tok = self.next()?;
        match tok.kind {
            Tok::Str(s) => Ok(Value::Str(s)),
            Tok::Number(n) => Ok(Value::Number(n)),
            Tok::Var(v) => Ok(Value::Var(v)),
            Tok::Ident(ref w) if w.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Tok::Ident(ref w) if w.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(self.unexpected(&tok, Expected::Value)),
        }
    }
}
