use std::ops::ControlFlow;

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

/// A dotted field path, split once when a rule is compiled and then used for every event.
///
/// `userIdentity.sessionContext.sessionIssuer.arn` walks nested objects. When the walk meets
/// an array it fans out over the elements, so `resources.ARN` reaches the `ARN` of every
/// resource; when it ends on an array, each element is a value of its own. When an object has
/// no key for the next segment, the rest of the path is also tried as one literal key, so a
/// key that itself contains dots (`"aws:cloudtrail.x"`) stays reachable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    raw: Box<str>,
    segments: Box<[Box<str>]>,
    /// `tails[i]` is `segments[i..]` joined with dots, precomputed so the dotted-key
    /// fallback never allocates while matching.
    tails: Box<[Box<str>]>,
    /// [`key_hash`] of the first segment and of the whole path (the dotted-key fallback at the
    /// top level), for [`crate::KeyedEvent`].
    head_hash: u64,
    whole_hash: u64,
    /// [`key_hash`] of the second segment (0 when there is none): keys inside top-level
    /// objects, which [`crate::KeyedEvent`] remembers.
    second_hash: u64,
}

impl FieldPath {
    /// Splits `raw` on `.`.
    pub fn new(raw: &str) -> Self {
        let segments: Box<[Box<str>]> = raw.split('.').map(Into::into).collect();
        let tails = (0..segments.len())
            .map(|i| segments[i..].join(".").into_boxed_str())
            .collect();
        FieldPath {
            raw: raw.into(),
            head_hash: key_hash(segments.first().map_or("", |s| s)),
            whole_hash: key_hash(raw),
            second_hash: segments.get(1).map_or(0, |s| key_hash(s)),
            segments,
            tails,
        }
    }

    /// The hash of the first segment (see [`key_hash`]).
    pub(crate) fn head_hash(&self) -> u64 {
        self.head_hash
    }

    /// The hash of the whole path taken as one key.
    pub(crate) fn whole_hash(&self) -> u64 {
        self.whole_hash
    }

    /// The hash of the second segment.
    pub(crate) fn second_hash(&self) -> u64 {
        self.second_hash
    }

    /// `segments[depth..]` joined with dots, when `depth` is within the path.
    pub(crate) fn tail(&self, depth: usize) -> Option<&str> {
        self.tails.get(depth).map(|tail| &**tail)
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The segments between dots.
    pub fn segments(&self) -> &[Box<str>] {
        &self.segments
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Read access to the fields of a record by [`FieldPath`]: the one thing a rule engine needs
/// from an event. Implemented by [`crate::Event`] and by a bare JSON [`Value`].
pub trait FieldLookup {
    /// Calls `visit` with every value at `path` (several when the path crosses or ends on an
    /// array), stopping as soon as `visit` breaks. Returns `Break` if `visit` did.
    fn for_each_value<'a>(
        &'a self,
        path: &FieldPath,
        visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()>;

    /// The first value at `path`, if any.
    fn first<'a>(&'a self, path: &FieldPath) -> Option<&'a Value> {
        let mut found = None;
        let _ = self.for_each_value(path, &mut |value| {
            found = Some(value);
            ControlFlow::Break(())
        });
        found
    }

    /// The first value at `path` when it is a string.
    fn first_str<'a>(&'a self, path: &FieldPath) -> Option<&'a str> {
        self.first(path).and_then(|value| value.as_str())
    }

    /// Whether any value exists at `path` (a JSON `null` counts as present).
    fn exists(&self, path: &FieldPath) -> bool {
        self.first(path).is_some()
    }

    /// Whether any value at `path` satisfies `pred`.
    fn any_value(&self, path: &FieldPath, pred: &mut dyn FnMut(&Value) -> bool) -> bool {
        self.for_each_value(path, &mut |value| {
            if pred(value) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .is_break()
    }
}

impl FieldLookup for Value {
    fn for_each_value<'a>(
        &'a self,
        path: &FieldPath,
        visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        walk(self, path, 0, visit)
    }
}

/// The hash object keys are compared by in [`crate::KeyedEvent`] (FxHash: fast on short
/// keys; a collision only costs a string comparison).
pub(crate) fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = rustc_hash::FxHasher::default();
    key.hash(&mut hasher);
    hasher.finish()
}

pub(crate) fn walk<'a>(
    value: &'a Value,
    path: &FieldPath,
    depth: usize,
    visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some(head) = path.segments.get(depth) else {
        return visit_leaf(value, visit);
    };
    if let Some(array) = value.as_array() {
        for element in array.iter() {
            walk(element, path, depth, visit)?;
        }
        return ControlFlow::Continue(());
    }
    let Some(object) = value.as_object() else {
        return ControlFlow::Continue(());
    };
    if let Some(child) = object.get(&head.as_ref()) {
        return walk(child, path, depth + 1, visit);
    }
    if depth + 1 >= path.segments.len() {
        return ControlFlow::Continue(());
    }
    // The remaining segments may be one key that contains dots.
    let joined = &path.tails[depth];
    match object.get(&joined.as_ref()) {
        Some(child) => visit_leaf(child, visit),
        None => ControlFlow::Continue(()),
    }
}

pub(crate) fn visit_leaf<'a>(
    value: &'a Value,
    visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match value.as_array() {
        Some(array) => {
            for element in array.iter() {
                visit_leaf(element, visit)?;
            }
            ControlFlow::Continue(())
        }
        None => visit(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        sonic_rs::from_str(
            r#"{"a":{"b":"x"},"resources":[{"ARN":"arn:1"},{"ARN":"arn:2"}],
                "list":["p","q"],"n":null,"dotted.key":7,"nested":{"k.with.dots":"v"}}"#,
        )
        .unwrap()
    }

    fn values(doc: &Value, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let _ = doc.for_each_value(&FieldPath::new(path), &mut |v| {
            out.push(v.to_string());
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn nested_objects_are_walked() {
        assert_eq!(values(&doc(), "a.b"), vec![r#""x""#]);
    }

    #[test]
    fn arrays_fan_out_in_the_middle_and_at_the_end() {
        assert_eq!(
            values(&doc(), "resources.ARN"),
            vec![r#""arn:1""#, r#""arn:2""#]
        );
        assert_eq!(values(&doc(), "list"), vec![r#""p""#, r#""q""#]);
    }

    #[test]
    fn null_is_present_and_missing_is_absent() {
        let doc = doc();
        assert!(doc.exists(&FieldPath::new("n")));
        assert!(!doc.exists(&FieldPath::new("missing")));
        assert!(!doc.exists(&FieldPath::new("a.b.c")));
    }

    #[test]
    fn keys_containing_dots_are_reachable() {
        assert_eq!(values(&doc(), "dotted.key"), vec!["7"]);
        assert_eq!(values(&doc(), "nested.k.with.dots"), vec![r#""v""#]);
    }

    #[test]
    fn visiting_stops_when_asked() {
        let doc = doc();
        let mut seen = 0;
        let flow = doc.for_each_value(&FieldPath::new("resources.ARN"), &mut |_| {
            seen += 1;
            ControlFlow::Break(())
        });
        assert!(flow.is_break());
        assert_eq!(seen, 1);
    }
}
