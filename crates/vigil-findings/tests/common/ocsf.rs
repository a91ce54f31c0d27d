//! A checker of OCSF events against the schema files in `tests/data/ocsf` (a copy of the
//! OCSF schema repository's layout): required attributes of the class and of every object
//! present, no attribute the class or object does not define, value types, enum ids,
//! `at_least_one` constraints, deprecated attributes, and the class/category/type ids.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{crate_dir, read};

/// An attribute as a class or object defines it, with what its profile include and its
/// parents said merged in.
#[derive(Debug, Clone, Default)]
struct Attribute {
    requirement: Option<String>,
    enum_ids: Vec<String>,
    profile: Option<String>,
    deprecated: bool,
    type_override: Option<String>,
}

/// A class or object with its inherited and included attributes.
#[derive(Debug, Default)]
struct Definition {
    attributes: BTreeMap<String, Attribute>,
    at_least_one: Vec<String>,
    uid: Option<u64>,
}

/// The schema copy.
pub struct Schema {
    root: PathBuf,
    dictionary: Value,
}

impl Schema {
    /// Loads `tests/data/ocsf`.
    pub fn load() -> Schema {
        // From either crate that includes this checker (vigil-findings, vigil-posture).
        let root = crate_dir().join("../vigil-findings/tests/data/ocsf");
        let dictionary = json(&root.join("dictionary.json"));
        Schema { root, dictionary }
    }

    /// The schema version (`version.json`).
    pub fn version(&self) -> String {
        let version = json(&self.root.join("version.json"));
        version["version"].as_str().unwrap_or_default().to_string()
    }

    /// Every problem of `event` as an instance of the class in `class_file`
    /// (`events/findings/detection_finding.json`); empty when it is valid.
    pub fn check_event(&self, class_file: &str, category: &str, event: &Value) -> Vec<String> {
        let class = self.definition(class_file);
        let mut problems = Vec::new();
        let profiles: Vec<String> = event["metadata"]["profiles"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|p| p.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        self.check_ids(&class, category, event, &mut problems);
        self.check_object(&class, event, "", &profiles, &mut problems);
        problems
    }

    fn check_ids(
        &self,
        class: &Definition,
        category: &str,
        event: &Value,
        problems: &mut Vec<String>,
    ) {
        let categories = json(&self.root.join("categories.json"));
        let category_uid = categories["attributes"][category]["uid"].as_u64();
        let class_uid = category_uid
            .zip(class.uid)
            .map(|(cat, uid)| cat * 1000 + uid);
        let activity = event["activity_id"].as_u64();
        if event["category_uid"].as_u64() != category_uid {
            problems.push(format!("category_uid is not {category_uid:?}"));
        }
        if event["class_uid"].as_u64() != class_uid {
            problems.push(format!("class_uid is not {class_uid:?}"));
        }
        if event["type_uid"].as_u64() != class_uid.zip(activity).map(|(c, a)| c * 100 + a) {
            problems.push("type_uid is not class_uid * 100 + activity_id".into());
        }
    }

    fn check_object(
        &self,
        def: &Definition,
        value: &Value,
        at: &str,
        profiles: &[String],
        problems: &mut Vec<String>,
    ) {
        let Some(fields) = value.as_object() else {
            return problems.push(format!("{at} is not an object"));
        };
        for (name, attribute) in &def.attributes {
            let active = attribute
                .profile
                .as_ref()
                .is_none_or(|p| profiles.contains(p));
            if attribute.requirement.as_deref() == Some("required")
                && active
                && !fields.contains_key(name)
            {
                problems.push(format!("{at}.{name} is required"));
            }
        }
        if !def.at_least_one.is_empty() && !def.at_least_one.iter().any(|n| fields.contains_key(n))
        {
            problems.push(format!("{at} needs at least one of {:?}", def.at_least_one));
        }
        for (name, item) in fields {
            let path = format!("{at}.{name}");
            match def.attributes.get(name) {
                None => problems.push(format!("{path} is not an attribute here")),
                Some(attribute) => {
                    self.check_attribute(name, attribute, item, &path, profiles, problems)
                }
            }
        }
    }

    fn check_attribute(
        &self,
        name: &str,
        attribute: &Attribute,
        value: &Value,
        path: &str,
        profiles: &[String],
        problems: &mut Vec<String>,
    ) {
        if attribute
            .profile
            .as_ref()
            .is_some_and(|p| !profiles.contains(p))
        {
            problems.push(format!(
                "{path} belongs to profile {:?}, not applied",
                attribute.profile
            ));
        }
        if attribute.deprecated {
            problems.push(format!("{path} is deprecated"));
        }
        let entry = &self.dictionary["attributes"][name];
        let kind = attribute
            .type_override
            .clone()
            .or_else(|| entry["type"].as_str().map(String::from));
        let Some(kind) = kind else {
            return problems.push(format!("{path} is not in the dictionary"));
        };
        let mut enum_ids = attribute.enum_ids.clone();
        if let Some(ids) = entry["enum"].as_object() {
            enum_ids.extend(ids.keys().cloned());
        }
        let items: Vec<&Value> = match (entry["is_array"].as_bool() == Some(true), value) {
            (true, Value::Array(items)) => items.iter().collect(),
            (true, _) => return problems.push(format!("{path} must be an array")),
            (false, item) => vec![item],
        };
        // The class, category and type ids are checked by `check_ids`: their enums in the
        // base event only list the placeholder 0.
        let ids_checked_elsewhere = ["class_uid", "category_uid", "type_uid"].contains(&name);
        for item in items {
            if !enum_ids.is_empty()
                && !ids_checked_elsewhere
                && !enum_ids.contains(&item.to_string())
            {
                problems.push(format!("{path} = {item} is not one of {enum_ids:?}"));
            }
            self.check_value(&kind, item, path, profiles, problems);
        }
    }

    fn check_value(
        &self,
        kind: &str,
        value: &Value,
        path: &str,
        profiles: &[String],
        problems: &mut Vec<String>,
    ) {
        let valid = match self.base_type(kind).as_str() {
            "string_t" => value.is_string(),
            "integer_t" | "long_t" | "timestamp_t" | "port_t" => value.is_i64() || value.is_u64(),
            "float_t" => value.is_number(),
            "boolean_t" => value.is_boolean(),
            "json_t" => true,
            "object" => value.is_object(),
            _ => {
                let def = self.definition(&format!("objects/{kind}.json"));
                self.check_object(&def, value, path, profiles, problems);
                true
            }
        };
        if !valid {
            problems.push(format!("{path} = {value} is not a {kind}"));
        }
    }

    /// `ip_t` → `string_t`; object names stay as they are.
    fn base_type(&self, kind: &str) -> String {
        let types = &self.dictionary["types"]["attributes"];
        match types[kind]["type"].as_str() {
            Some(base) => base.to_string(),
            None => kind.to_string(),
        }
    }

    /// A class or object file with its `extends` parents and `$include`d profiles merged.
    fn definition(&self, file: &str) -> Definition {
        let doc = json(&self.root.join(file));
        let mut def = match doc["extends"].as_str() {
            Some(parent) => self.definition(&self.parent_file(file, parent)),
            None => Definition::default(),
        };
        def.uid = doc["uid"].as_u64().or(def.uid);
        if let Some(list) = doc["constraints"]["at_least_one"].as_array() {
            def.at_least_one = list
                .iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect();
        }
        let attributes = doc["attributes"].as_object().cloned().unwrap_or_default();
        for include in attributes
            .get("$include")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let profile = json(&self.root.join(include.as_str().unwrap_or_default()));
            let name = profile["name"].as_str().map(String::from);
            merge_attributes(&mut def, profile["attributes"].as_object(), name);
        }
        merge_attributes(&mut def, Some(&attributes), None);
        def
    }

    fn parent_file(&self, file: &str, parent: &str) -> String {
        if file.starts_with("objects/") {
            return format!("objects/{parent}.json");
        }
        ["events", "events/findings", "events/application"]
            .iter()
            .map(|dir| format!("{dir}/{parent}.json"))
            .find(|candidate| self.root.join(candidate).exists())
            .unwrap_or_else(|| panic!("no event class file for {parent}"))
    }
}

fn merge_attributes(
    def: &mut Definition,
    attributes: Option<&Map<String, Value>>,
    profile: Option<String>,
) {
    for (name, spec) in attributes.into_iter().flatten() {
        if name == "$include" {
            continue;
        }
        let attribute = def.attributes.entry(name.clone()).or_default();
        if let Some(requirement) = spec["requirement"].as_str() {
            attribute.requirement = Some(requirement.to_string());
        }
        if let Some(ids) = spec["enum"].as_object() {
            attribute.enum_ids.extend(ids.keys().cloned());
        }
        if let Some(kind) = spec["type"].as_str() {
            attribute.type_override = Some(kind.to_string());
        }
        match (spec.get("profile"), &profile) {
            (Some(Value::Null), _) => attribute.profile = None,
            (_, Some(name)) => attribute.profile = Some(name.clone()),
            _ => {}
        }
        attribute.deprecated |= spec.get("@deprecated").is_some();
    }
}

fn json(path: &std::path::Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
