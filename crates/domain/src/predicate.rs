//! The `where` query language (being integrated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr { And(Box<Expr>, Box<Expr>), Or(Box<Expr>, Box<Expr>), Not(Box<Expr>), Cmp { field: Field, op: CmpOp, value: Value }, In { field: Field, negated: bool, values: Vec<Value> }, Defined { field: Field, negated: bool } }
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field { Plain(String), Custom(String) }
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp { Eq, Ne, Lt, Le, Gt, Ge }
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value { Str(String), Number(String), Bool(bool), Var(String) }
