//! The machinery that lets a config parse report every mistake with its place: values
//! read whole whatever their shape ([`Node`], [`leaf`]), checks as [`checkpoint`]s that a
//! later parse lets through so the next mistake is found, mappings with fixed or checked
//! keys ([`mapping!`], [`entries`]), and the per-parse [`ParseContext`] the checks read
//! (declared datasets, names seen, the metric a threshold is for, the config's
//! directory). Main entry: [`with_context`].

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess};
use serde::de::{SeqAccess, VariantAccess, Visitor};

use crate::names::check_name;

/// What one parse knows beyond the value at hand.
#[derive(Debug, Default)]
pub struct ParseContext {
    /// The datasets the file declares (from a first, lenient pass), if it could be read.
    pub(super) datasets: Option<BTreeSet<String>>,
    /// The config's directory: `cwd` is relative to it.
    pub(super) base: PathBuf,
    /// The checkpoints that failed in an earlier parse: let through this time.
    skip: BTreeSet<usize>,
    /// Benchmark names seen so far.
    pub(super) names: BTreeSet<String>,
    /// Datasets seen so far in the current benchmark's list.
    pub(super) list: BTreeSet<String>,
    /// The metric whose threshold is being read.
    pub(super) metric: Option<String>,
    /// Checkpoints passed so far.
    checks: usize,
    /// The checkpoint that failed in this parse.
    failed: Option<usize>,
}

impl ParseContext {
    pub fn new(datasets: Option<BTreeSet<String>>, base: PathBuf, skip: BTreeSet<usize>) -> Self {
        ParseContext {
            datasets,
            base,
            skip,
            ..ParseContext::default()
        }
    }
}

thread_local! {
    static CONTEXT: RefCell<ParseContext> = RefCell::new(ParseContext::default());
}

/// Reads or changes the context of the parse under way.
pub(super) fn context<T>(f: impl FnOnce(&mut ParseContext) -> T) -> T {
    CONTEXT.with(|c| f(&mut c.borrow_mut()))
}

/// Runs `parse` with `context` installed for the visitors; returns its result and which
/// checkpoint failed, if one did.
pub fn with_context<T>(context: ParseContext, parse: impl FnOnce() -> T) -> (T, Option<usize>) {
    CONTEXT.with(|c| *c.borrow_mut() = context);
    let out = parse();
    let failed = CONTEXT.with(|c| std::mem::take(&mut *c.borrow_mut()).failed);
    (out, failed)
}

/// Every check goes through here, in document order. A check that failed in an earlier
/// parse gets a placeholder this time, so the parse goes on to the next mistake; the
/// placeholder never reaches a plan, since the parse had errors.
pub(super) fn checkpoint<T: Default>(result: Result<T, String>) -> Result<T, String> {
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        c.checks += 1;
        let n = c.checks;
        match result {
            Ok(value) => Ok(value),
            Err(_) if c.skip.contains(&n) => Ok(T::default()),
            Err(message) => {
                c.failed = Some(n);
                Err(message)
            }
        }
    })
}

pub(super) fn fail<T: Default, E: de::Error>(message: String) -> Result<T, E> {
    checkpoint(Err(message)).map_err(E::custom)
}

/// A node as a value sees it: a scalar, or what kind of thing it is when it is not one
/// (its content read and dropped).
#[derive(Debug)]
pub enum Node {
    Str(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    Null,
    List,
    Mapping,
    Tagged,
}

impl fmt::Display for Node {
    /// How a message names what it found: `string "three"`, `a list`.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Node::Str(s) => write!(f, "string {s:?}"),
            Node::Unsigned(n) => write!(f, "the number {n}"),
            Node::Signed(n) => write!(f, "the number {n}"),
            Node::Float(n) => write!(f, "the number {n}"),
            Node::Bool(b) => write!(f, "{b}"),
            Node::Null => f.write_str("nothing"),
            Node::List => f.write_str("a list"),
            Node::Mapping => f.write_str("a mapping"),
            Node::Tagged => f.write_str("a tagged value"),
        }
    }
}

/// `Err("expected EXPECTING, found NODE")`.
pub(super) fn wrong<T>(expecting: &str, node: &Node) -> Result<T, String> {
    Err(format!("expected {expecting}, found {node}"))
}

/// Reads a name as written: the scalar's own text (`0x10` stays `0x10`, `True` stays
/// `True`), so that every pass over the file reads it alike. A list or mapping where a
/// name should be ends the parse there (serde_yaml refuses it before memgate can read
/// past it), with its place.
pub(super) fn name_leaf<'de, D, T, F>(
    d: D,
    expecting: &'static str,
    check: F,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default,
    F: FnOnce(String) -> Result<T, String>,
{
    let check = move |node| match node {
        Node::Str(s) => check(s),
        other => wrong(expecting, &other),
    };
    d.deserialize_str(Leaf { check, expecting })
}

/// Reads one node of any shape and judges it with `check`, inside the visitor (so the
/// error carries the node's place) and as a checkpoint.
struct Leaf<F> {
    check: F,
    expecting: &'static str,
}

/// Reads a leaf value: `check` turns the node into the value or says what is wrong.
pub(super) fn leaf<'de, D, T, F>(d: D, expecting: &'static str, check: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default,
    F: FnOnce(Node) -> Result<T, String>,
{
    d.deserialize_any(Leaf { check, expecting })
}

impl<F> Leaf<F> {
    fn judge<T: Default, E: de::Error>(self, node: Node) -> Result<T, E>
    where
        F: FnOnce(Node) -> Result<T, String>,
    {
        checkpoint((self.check)(node)).map_err(E::custom)
    }
}

impl<'de, T: Default, F: FnOnce(Node) -> Result<T, String>> Visitor<'de> for Leaf<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        self.judge(Node::Str(s.to_owned()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        self.judge(Node::Unsigned(n))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        self.judge(Node::Signed(n))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<T, E> {
        self.judge(Node::Float(n))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<T, E> {
        self.judge(Node::Bool(b))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        self.judge(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.judge(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        drain_seq(seq)?;
        self.judge(Node::List)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        drain_map(map)?;
        self.judge(Node::Mapping)
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
        drain_enum(data)?;
        self.judge(Node::Tagged)
    }
}

/// Refuses `node` where the visitor wanted something else, as a checkpoint.
pub(super) fn refuse<T: Default, E: de::Error>(
    wanted: &dyn de::Expected,
    node: Node,
) -> Result<T, E> {
    fail(format!("expected {wanted}, found {node}"))
}

pub(super) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

pub(super) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

pub(super) fn drain_enum<'de, A: EnumAccess<'de>>(data: A) -> Result<(), A::Error> {
    let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
    variant.newtype_variant::<IgnoredAny>()?;
    Ok(())
}

/// The visit methods of a visitor that wants one shape (a mapping or a list) for every
/// scalar or tagged node: the node is read to its end and refused, as a checkpoint.
macro_rules! refuse_scalars {
    () => {
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::Str(s.to_owned()))
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Self::Value, E> {
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::Unsigned(n))
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Self::Value, E> {
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::Signed(n))
        }
        fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Self::Value, E> {
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::Float(n))
        }
        fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::Bool(b))
        }
        fn visit_enum<A: serde::de::EnumAccess<'de>>(
            self,
            data: A,
        ) -> Result<Self::Value, A::Error> {
            $crate::config::visit::drain_enum(data)?;
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::Tagged)
        }
    };
}
pub(super) use refuse_scalars;

/// ... and for a visitor of mappings: lists are refused too.
macro_rules! refuse_lists {
    () => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            $crate::config::visit::drain_seq(seq)?;
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::List)
        }
    };
}
pub(super) use refuse_lists;

/// ... and for a visitor of lists: mappings are refused too.
macro_rules! refuse_mappings {
    () => {
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            $crate::config::visit::drain_map(map)?;
            $crate::config::visit::refuse(&self, $crate::config::visit::Node::Mapping)
        }
    };
}
pub(super) use refuse_mappings;

/// What a mapping accepts as keys: a name rule, or a fixed list of known keys.
#[derive(Clone, Copy)]
pub(super) enum Keys {
    Known(&'static [&'static str]),
    Rule(fn(&str) -> Result<(), String>),
    /// A metric name or `default`; the metric whose threshold follows.
    Metric,
}

/// Reads a key, refusing an unknown one (with a suggestion) and a repeated one. `None`:
/// a refused key let through by the checkpoint; the caller skips its value.
pub(super) struct KeySeed<'a> {
    pub(super) keys: Keys,
    pub(super) seen: &'a BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        name_leaf(d, "a key", |key| {
            if self.seen.contains(&key) {
                return Err(format!(
                    "key {key:?} appears twice: keep one (YAML takes only the last)"
                ));
            }
            match self.keys {
                Keys::Known(known) if !known.contains(&key.as_str()) => {
                    return Err(match super::suggest(&key, known.iter().copied()) {
                        Some(s) => format!("unknown key {key:?} (did you mean {s:?}?)"),
                        None => format!(
                            "unknown key {key:?}: the keys here are {}",
                            known.join(", ")
                        ),
                    });
                }
                Keys::Known(_) => {}
                Keys::Rule(rule) => rule(&key)?,
                Keys::Metric => {
                    if key != "default" {
                        check_name("metric name", &key)?;
                    }
                    CONTEXT.with(|c| c.borrow_mut().metric = Some(key.clone()));
                }
            }
            Ok(Some(key))
        })
    }
}

/// A mapping from checked names to values, in the file's order. Main use: `datasets:`,
/// `env:`, `thresholds:`.
#[derive(Debug)]
pub struct Entries<V> {
    pub entries: Vec<(String, V)>,
}

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries {
            entries: Vec::new(),
        }
    }
}

impl<V> Entries<V> {
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// Reads a mapping whose keys follow `keys` into [`Entries`].
pub(super) fn entries<'de, D, V>(
    d: D,
    keys: Keys,
    expecting: &'static str,
) -> Result<Entries<V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct EntriesVisitor<V> {
        keys: Keys,
        expecting: &'static str,
        value: std::marker::PhantomData<V>,
    }
    impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
        type Value = Entries<V>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
            let mut seen = BTreeSet::new();
            let mut out = Entries::default();
            loop {
                let seed = KeySeed {
                    keys: self.keys,
                    seen: &seen,
                };
                let Some(key) = map.next_key_seed(seed)? else {
                    break;
                };
                match key {
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    Some(key) => {
                        let value = map.next_value::<V>()?;
                        seen.insert(key.clone());
                        out.entries.push((key, value));
                    }
                }
            }
            Ok(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Entries<V>, E> {
            Ok(Entries::default())
        }
        refuse_scalars!();
        refuse_lists!();
    }
    d.deserialize_any(EntriesVisitor {
        keys,
        expecting,
        value: std::marker::PhantomData,
    })
}

/// Reads a list (nothing where it is left empty); any other shape is refused.
pub(super) fn list<'de, D, T>(d: D, expecting: &'static str) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    checked_list(d, expecting, None)
}

/// A rule over a whole list: what is wrong with it, if anything.
pub(super) type ListCheck<T> = fn(&[T]) -> Result<(), String>;

/// As [`list`], and `check` judges the list as a whole, as a checkpoint placed at the
/// list (an empty one too).
pub(super) fn checked_list<'de, D, T>(
    d: D,
    expecting: &'static str,
    check: Option<ListCheck<T>>,
) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ListVisitor<T> {
        expecting: &'static str,
        check: Option<ListCheck<T>>,
    }
    impl<T> ListVisitor<T> {
        fn judge<E: de::Error>(&self, items: Vec<T>) -> Result<Vec<T>, E> {
            if let Some(check) = self.check {
                checkpoint(check(&items)).map_err(E::custom)?;
            }
            Ok(items)
        }
    }
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element()? {
                out.push(item);
            }
            self.judge(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            self.judge(Vec::new())
        }
        refuse_scalars!();
        refuse_mappings!();
    }
    d.deserialize_any(ListVisitor { expecting, check })
}

/// Defines a struct read from a mapping with a fixed set of keys: an unknown or repeated
/// key, a missing required one, and (with `check`) each rule across its keys are each a
/// checkpoint at the mapping's place, so the parse goes on past them. A `flatten` field
/// is another such struct whose keys are read at this level, as if written here; it
/// must have no required keys and no check of its own.
macro_rules! mapping {
    (
        $(#[$meta:meta])*
        $name:ident, $expecting:literal,
        required { $($req:ident : $req_ty:ty),* $(,)? }
        optional { $($(#[$fmeta:meta])* $opt:ident : $opt_ty:ty),* $(,)? }
        $(flatten { $(#[$flat_meta:meta])* $flat:ident : $flat_ty:ty })?
        $(check $($check:path),+)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        pub struct $name {
            $(pub $req: $req_ty,)*
            $($(#[$fmeta])* pub $opt: $opt_ty,)*
            $($(#[$flat_meta])* pub $flat: $flat_ty,)?
        }

        impl $name {
            /// Every key of the mapping, a flattened field's too.
            fn keys() -> &'static [&'static str] {
                static KEYS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
                    #[allow(unused_mut)]
                    let mut keys = vec![$(stringify!($req),)* $(stringify!($opt),)*];
                    $(keys.extend(<$flat_ty>::keys());)?
                    keys
                });
                &KEYS
            }

            /// Reads the value of `key` if it is one of this mapping's keys.
            fn read_value<'de, A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                match key {
                    $(stringify!($req) => self.$req = map.next_value()?,)*
                    $(stringify!($opt) => self.$opt = map.next_value()?,)*
                    _ => return Ok(false $(|| self.$flat.read_value(key, map)?)?),
                }
                Ok(true)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut out = $name::default();
                        let mut seen = std::collections::BTreeSet::new();
                        while let Some(key) = map.next_key_seed($crate::config::visit::KeySeed {
                            keys: $crate::config::visit::Keys::Known($name::keys()),
                            seen: &seen,
                        })? {
                            let Some(key) = key else {
                                map.next_value::<serde::de::IgnoredAny>()?;
                                continue;
                            };
                            if !out.read_value(&key, &mut map)? {
                                // Not reached: every known key has its field.
                                map.next_value::<serde::de::IgnoredAny>()?;
                            }
                            seen.insert(key);
                        }
                        $(
                            if !seen.contains(stringify!($req)) {
                                $crate::config::visit::checkpoint($crate::config::visit::missing(stringify!($req))).map_err(serde::de::Error::custom)?;
                            }
                        )*
                        $($($crate::config::visit::checkpoint($check(&out)).map_err(serde::de::Error::custom)?;)+)?
                        Ok(out)
                    }
                    refuse_scalars!();
                    refuse_lists!();
                    fn visit_unit<E: serde::de::Error>(self) -> Result<$name, E> {
                        $crate::config::visit::refuse(&self, $crate::config::visit::Node::Null)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}
pub(super) use mapping;

pub(super) fn missing(key: &str) -> Result<(), String> {
    Err(match key {
        "version" => "missing key \"version\": add version: 1 at the top".into(),
        key => format!("missing key {key:?}"),
    })
}
