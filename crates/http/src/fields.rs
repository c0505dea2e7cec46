//! Parser for the `fields` query parameter (Medusa-style admin API).
//!
//! `fields` is a comma separated list of items, percent-decoded before
//! splitting. Item forms (after trimming):
//!
//! * `name` — a *plain* item. If any plain item is present the list replaces
//!   the defaults (the selection starts from `id` only).
//! * `+name` or ` name` (a leading space, which is what `+` becomes after form
//!   decoding) — adds to the selection.
//! * `-name` — removes from the selection.
//! * `*rel` (optionally after `+`/`-`) — the whole relation; it is *not* a
//!   plain item, so `fields=*groups` means "defaults plus all of `groups`".
//!
//! `name` is a scalar (`email`), a relation (`groups`, = the whole relation),
//! `rel.*` (the whole relation) or `rel.field` (one field of the relation).
//! Items are applied left to right. `id` is always selected, both on the root
//! entity and inside a partially selected relation.
//!
//! Anything else is rejected with [`InvalidFields`] listing exactly the
//! offending items (without their `+`/`-`/space sign), in order of first
//! appearance, deduplicated.

use std::collections::HashSet;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// The field that is always selected, on the entity and in partial relations.
pub const ID: &str = "id";

/// Static description of what can be selected on one resource.
///
/// Invariants (checked by tests for the built-in specs): `scalars` contains
/// [`ID`]; relation names are distinct from scalar names; every entry of
/// `default_relations` names a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Scalar fields of the resource, in serialisation order. All of them are
    /// selected by default.
    pub scalars: &'static [&'static str],
    /// Relations and their fields.
    pub relations: &'static [(&'static str, &'static [&'static str])],
    /// Relations selected (whole) by default.
    pub default_relations: &'static [&'static str],
}

/// Scalar fields of a customer.
pub const CUSTOMER_SCALARS: &[&str] = &[
    "id",
    "email",
    "company_name",
    "first_name",
    "last_name",
    "phone",
    "metadata",
    "has_account",
    "default_billing_address_id",
    "default_shipping_address_id",
    "created_by",
    "created_at",
    "updated_at",
    "deleted_at",
];

/// Fields of a customer group as seen through a customer's `groups`.
pub const CUSTOMER_GROUP_RELATION_FIELDS: &[&str] = &["id", "name", "metadata", "created_at", "updated_at"];

/// Fields of a customer address.
pub const CUSTOMER_ADDRESS_FIELDS: &[&str] = &[
    "id",
    "address_name",
    "is_default_shipping",
    "is_default_billing",
    "customer_id",
    "company",
    "first_name",
    "last_name",
    "address_1",
    "address_2",
    "city",
    "country_code",
    "province",
    "postal_code",
    "phone",
    "metadata",
    "created_at",
    "updated_at",
];

/// Scalar fields of a customer group (admin customer-groups endpoints).
pub const CUSTOMER_GROUP_SCALARS: &[&str] =
    &["id", "name", "metadata", "created_by", "created_at", "updated_at", "deleted_at"];

/// `fields` spec of `/admin/customers`.
pub const CUSTOMER_SPEC: FieldSpec = FieldSpec {
    scalars: CUSTOMER_SCALARS,
    relations: &[("groups", CUSTOMER_GROUP_RELATION_FIELDS), ("addresses", CUSTOMER_ADDRESS_FIELDS)],
    default_relations: &["groups", "addresses"],
};

/// `fields` spec of `/admin/customer-groups` (`customers` is opt-in).
pub const CUSTOMER_GROUP_SPEC: FieldSpec = FieldSpec {
    scalars: CUSTOMER_GROUP_SCALARS,
    relations: &[("customers", CUSTOMER_SCALARS)],
    default_relations: &[],
};

/// The `fields` value contained items that are not valid for the resource.
///
/// Holds the offending items without their `+`/`-`/space sign (an item that
/// is only a sign, e.g. `-`, is kept as written), in order of first
/// appearance, deduplicated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Requested fields [{}] are not valid", .0.join(", "))]
pub struct InvalidFields(pub Vec<String>);

/// Selection inside a relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelationFields {
    /// The whole relation: every field, element objects are kept as they are.
    All,
    /// Only these fields, in spec order; always contains [`ID`] when the
    /// relation has such a field. Never normalised to `All`, even when every
    /// spec field is listed.
    Only(Vec<&'static str>),
}

impl RelationFields {
    /// Whether `field` is selected in this relation.
    pub fn includes(&self, field: &str) -> bool {
        match self {
            RelationFields::All => true,
            RelationFields::Only(list) => list.contains(&field),
        }
    }
}

/// The result of parsing `fields` for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedFields {
    spec: &'static FieldSpec,
    scalars: Vec<&'static str>,
    relations: Vec<Option<RelationFields>>,
}

/// Selection for `/admin/customers`.
pub type CustomerFields = SelectedFields;

impl Default for SelectedFields {
    /// The customer defaults (see [`SelectedFields::defaults_for`] for others).
    fn default() -> Self {
        Self::defaults_for(&CUSTOMER_SPEC)
    }
}

impl SelectedFields {
    /// Every scalar plus the spec's default relations (whole).
    pub fn defaults_for(spec: &'static FieldSpec) -> Self {
        Selection::defaults(spec).finish()
    }

    /// The spec this selection was parsed against.
    pub fn spec(&self) -> &'static FieldSpec {
        self.spec
    }

    /// Selected scalar names, in spec order; always contains [`ID`].
    pub fn scalars(&self) -> &[&'static str] {
        &self.scalars
    }

    /// Whether the scalar `name` is selected.
    pub fn includes(&self, name: &str) -> bool {
        self.scalars.contains(&name)
    }

    /// Selection of relation `name`; `None` if not selected (or unknown).
    pub fn relation(&self, name: &str) -> Option<&RelationFields> {
        let idx = self.spec.relations.iter().position(|(r, _)| *r == name)?;
        self.relations.get(idx)?.as_ref()
    }

    /// Whether `field` of relation `relation` is selected.
    pub fn relation_includes(&self, relation: &str, field: &str) -> bool {
        self.relation(relation).is_some_and(|r| r.includes(field))
    }

    /// Customer `groups` selection.
    pub fn groups(&self) -> Option<&RelationFields> {
        self.relation("groups")
    }

    /// Customer `addresses` selection.
    pub fn addresses(&self) -> Option<&RelationFields> {
        self.relation("addresses")
    }

    /// Whether customer `groups` must be loaded.
    pub fn wants_groups(&self) -> bool {
        self.groups().is_some()
    }

    /// Whether customer `addresses` must be loaded.
    pub fn wants_addresses(&self) -> bool {
        self.addresses().is_some()
    }

    /// Shapes the JSON of a fully loaded entity into the selected subset.
    ///
    /// Keeps only selected scalar and relation keys, in the order of `full`
    /// (keys unknown to the spec are dropped). A relation value that is an
    /// array has each object element shaped; an object is shaped itself;
    /// anything else (e.g. `null`) is kept. With [`RelationFields::All`] the
    /// elements are kept untouched. Non-object input is returned unchanged.
    pub fn shape(&self, full: Value) -> Value {
        let Value::Object(map) = full else {
            return full;
        };
        let mut out = Map::with_capacity(self.scalars.len() + self.relations.len());
        for (key, value) in map {
            if self.includes(&key) {
                out.insert(key, value);
            } else if let Some(rel) = self.relation(&key) {
                let shaped = shape_relation(rel, value);
                out.insert(key, shaped);
            }
        }
        Value::Object(out)
    }

    /// [`SelectedFields::shape`] for a customer.
    pub fn shape_customer(&self, full: Value) -> Value {
        self.shape(full)
    }
}

fn shape_relation(rel: &RelationFields, value: Value) -> Value {
    let RelationFields::Only(keep) = rel else {
        return value;
    };
    let shape_one = |v: Value| match v {
        Value::Object(mut m) => {
            m.retain(|k, _| keep.contains(&k.as_str()));
            Value::Object(m)
        }
        other => other,
    };
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(shape_one).collect()),
        other => shape_one(other),
    }
}

/// Parses the customer `fields` parameter; `None` means "not given".
pub fn parse_fields(raw: Option<&str>) -> Result<CustomerFields, InvalidFields> {
    parse_fields_for(&CUSTOMER_SPEC, raw)
}

/// Parses `fields` against any [`FieldSpec`].
///
/// `raw` may be the query value before or after form decoding: `%XX`
/// sequences are decoded (once; a `%` not followed by two hex digits stays
/// literal, invalid UTF-8 becomes U+FFFD) and a leading space counts as `+`.
pub fn parse_fields_for(spec: &'static FieldSpec, raw: Option<&str>) -> Result<SelectedFields, InvalidFields> {
    let Some(raw) = raw else {
        return Ok(SelectedFields::defaults_for(spec));
    };
    let decoded = percent_decode_str(raw).decode_utf8_lossy();

    let mut ops: Vec<(Sign, Target)> = Vec::new();
    let mut invalid: Vec<String> = Vec::new();
    let mut seen_invalid: HashSet<&str> = HashSet::new();
    let mut replace = false;

    for piece in decoded.split(',') {
        let item = piece.trim();
        if item.is_empty() {
            continue;
        }
        let (sign, rest) = if let Some(r) = item.strip_prefix('+') {
            (Sign::Add, r)
        } else if let Some(r) = item.strip_prefix('-') {
            (Sign::Remove, r)
        } else if piece.starts_with(char::is_whitespace) {
            (Sign::Add, item)
        } else {
            (Sign::Plain, item)
        };
        let name = rest.trim();
        match resolve(spec, name) {
            Some((target, starred)) => {
                replace |= sign == Sign::Plain && !starred;
                ops.push((sign, target));
            }
            None => {
                let shown = if name.is_empty() { item } else { name };
                if seen_invalid.insert(shown) {
                    invalid.push(shown.to_owned());
                }
            }
        }
    }
    if !invalid.is_empty() {
        return Err(InvalidFields(invalid));
    }

    let mut sel = if replace { Selection::empty(spec) } else { Selection::defaults(spec) };
    for (sign, target) in ops {
        sel.apply(sign == Sign::Remove, target);
    }
    Ok(sel.finish())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Plain,
    Add,
    Remove,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Scalar(usize),
    Relation(usize),
    RelationField(usize, usize),
}

/// Resolves an item name (sign already stripped). Returns the target and
/// whether it used the `*rel` form.
fn resolve(spec: &FieldSpec, name: &str) -> Option<(Target, bool)> {
    let rel_idx = |r: &str| spec.relations.iter().position(|(n, _)| *n == r);
    if let Some(rel) = name.strip_prefix('*') {
        return rel_idx(rel).map(|i| (Target::Relation(i), true));
    }
    if let Some((rel, sub)) = name.split_once('.') {
        let i = rel_idx(rel)?;
        if sub == "*" {
            return Some((Target::Relation(i), false));
        }
        let j = spec.relations[i].1.iter().position(|f| *f == sub)?;
        return Some((Target::RelationField(i, j), false));
    }
    if let Some(i) = spec.scalars.iter().position(|s| *s == name) {
        return Some((Target::Scalar(i), false));
    }
    rel_idx(name).map(|i| (Target::Relation(i), false))
}

/// Working state of a relation while applying items.
#[derive(Debug, Clone)]
enum RelState {
    Off,
    All,
    Only(Vec<bool>),
}

struct Selection {
    spec: &'static FieldSpec,
    scalars: Vec<bool>,
    relations: Vec<RelState>,
}

impl Selection {
    fn empty(spec: &'static FieldSpec) -> Self {
        Self { spec, scalars: vec![false; spec.scalars.len()], relations: vec![RelState::Off; spec.relations.len()] }
    }

    fn defaults(spec: &'static FieldSpec) -> Self {
        let mut sel = Self::empty(spec);
        sel.scalars.iter_mut().for_each(|s| *s = true);
        for (state, (name, _)) in sel.relations.iter_mut().zip(spec.relations) {
            if spec.default_relations.contains(name) {
                *state = RelState::All;
            }
        }
        sel
    }

    fn apply(&mut self, remove: bool, target: Target) {
        match target {
            Target::Scalar(i) => self.scalars[i] = !remove,
            Target::Relation(i) => {
                self.relations[i] = if remove { RelState::Off } else { RelState::All };
            }
            Target::RelationField(i, j) => {
                let fields = self.spec.relations[i].1;
                if remove && fields[j] == ID {
                    return; // `id` cannot be removed; keep `All` as `All`.
                }
                let state = &mut self.relations[i];
                match (remove, &mut *state) {
                    (true, RelState::Off) | (false, RelState::All) => {}
                    (true, RelState::All) => {
                        let mut mask = vec![true; fields.len()];
                        mask[j] = false;
                        *state = RelState::Only(mask);
                    }
                    (false, RelState::Off) => {
                        let mut mask = vec![false; fields.len()];
                        mask[j] = true;
                        *state = RelState::Only(mask);
                    }
                    (_, RelState::Only(mask)) => mask[j] = !remove,
                }
            }
        }
    }

    fn finish(self) -> SelectedFields {
        let spec = self.spec;
        let scalars = spec
            .scalars
            .iter()
            .zip(&self.scalars)
            .filter(|(name, on)| **on || **name == ID)
            .map(|(name, _)| *name)
            .collect();
        let relations = self
            .relations
            .into_iter()
            .zip(spec.relations)
            .map(|(state, (_, fields))| match state {
                RelState::Off => None,
                RelState::All => Some(RelationFields::All),
                RelState::Only(mask) => Some(RelationFields::Only(
                    fields.iter().zip(&mask).filter(|(name, on)| **on || **name == ID).map(|(name, _)| *name).collect(),
                )),
            })
            .collect();
        SelectedFields { spec, scalars, relations }
    }
}

#[cfg(test)]
mod tests;
