//! The `vigil.tests` samples of a rule: events it must match and near misses it must not.

use serde_json::Value as Json;
use vigil_event::LogSource;

use crate::error::Problem;
use crate::logsource::source_by_name;
use crate::yaml;

/// One test case of a rule's `vigil.tests` list:
/// `{ name: ..., match: true, event: {...} }` or `{ match: false, events: [{...}, {...}] }`,
/// with an optional `source: vpcflow` for events that are not CloudTrail.
#[derive(Debug, Clone)]
pub struct RuleTest {
    pub name: Option<String>,
    /// `match:`: whether the rule (or correlation) must fire on these events.
    pub expect_match: bool,
    /// The sample events, in order.
    pub events: Vec<sonic_rs::Value>,
    /// The log source of the events, when given.
    pub source: Option<LogSource>,
}

impl RuleTest {
    /// Parses the `tests` list of a `vigil:` block given as JSON (for example
    /// [`vigil_correlation::CorrelationRule::vigil`]); an absent list is empty.
    pub fn parse_all(vigil: &Json) -> Result<Vec<RuleTest>, String> {
        let Some(tests) = vigil.get("tests") else {
            return Ok(Vec::new());
        };
        let tests = tests.as_array().ok_or("`vigil.tests` must be a list")?;
        tests
            .iter()
            .enumerate()
            .map(|(i, t)| RuleTest::parse(t).map_err(|e| format!("vigil.tests[{i}]: {e}")))
            .collect()
    }

    /// Parses one test case.
    pub fn parse(test: &Json) -> Result<RuleTest, String> {
        let object = test.as_object().ok_or("a test must be a mapping")?;
        if let Some(unknown) = object
            .keys()
            .find(|k| !["name", "match", "event", "events", "source"].contains(&k.as_str()))
        {
            return Err(format!(
                "unknown key `{unknown}` (expected name, match, event, events, source)"
            ));
        }
        let expect_match = test
            .get("match")
            .and_then(Json::as_bool)
            .ok_or("`match: true|false` is required")?;
        let events = match (test.get("event"), test.get("events")) {
            (Some(event), None) => vec![to_event(event)?],
            (None, Some(Json::Array(events))) if !events.is_empty() => {
                events.iter().map(to_event).collect::<Result<_, _>>()?
            }
            (None, Some(_)) => return Err("`events` must be a non-empty list".into()),
            _ => return Err("give exactly one of `event` or `events`".into()),
        };
        let source = match test.get("source") {
            None => None,
            Some(Json::String(name)) => {
                Some(source_by_name(name).ok_or(format!("unknown source `{name}`"))?)
            }
            Some(_) => return Err("`source` must be a name".into()),
        };
        Ok(RuleTest {
            name: test.get("name").and_then(Json::as_str).map(str::to_string),
            expect_match,
            events,
            source,
        })
    }
}

fn to_event(event: &Json) -> Result<sonic_rs::Value, String> {
    if !event.is_object() {
        return Err("an event must be a mapping".into());
    }
    let text = serde_json::to_string(event).map_err(|e| e.to_string())?;
    sonic_rs::from_str(&text).map_err(|e| e.to_string())
}

/// Parses the tests of a `vigil:` node, reporting a bad test at its own line.
pub(crate) fn from_vigil(vigil: &yaml::Node<'_>) -> Result<Vec<RuleTest>, Problem> {
    let Some((key, list)) = yaml::get(vigil, "tests") else {
        return Ok(Vec::new());
    };
    let items = yaml::items(list)
        .ok_or_else(|| Problem::new(yaml::line(key), "`vigil.tests` must be a list"))?;
    items
        .iter()
        .map(|item| {
            RuleTest::parse(&yaml::to_json(item))
                .map_err(|e| Problem::new(yaml::line(item), format!("vigil test: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sonic_rs::JsonValueTrait;

    #[test]
    fn single_and_multi_event_tests_parse() {
        let vigil = json!({"tests": [
            {"name": "hit", "match": true, "event": {"eventName": "StopLogging"}},
            {"match": false, "events": [{"a": 1}, {"a": 2}], "source": "vpcflowlogs"}
        ]});
        let tests = RuleTest::parse_all(&vigil).unwrap();
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[0].name.as_deref(), Some("hit"));
        assert!(tests[0].expect_match);
        assert_eq!(
            tests[0].events[0].get("eventName").and_then(|v| v.as_str()),
            Some("StopLogging")
        );
        assert!(!tests[1].expect_match);
        assert_eq!(tests[1].events.len(), 2);
        assert_eq!(tests[1].source, Some(LogSource::VpcFlow));
    }

    #[test]
    fn malformed_tests_are_rejected() {
        let bad = [
            json!({"event": {}}),
            json!({"match": true}),
            json!({"match": true, "event": {}, "events": [{}]}),
            json!({"match": true, "events": []}),
            json!({"match": true, "event": "text"}),
            json!({"match": true, "event": {}, "source": "syslog"}),
            json!({"match": true, "event": {}, "expect": 1}),
        ];
        for test in bad {
            assert!(RuleTest::parse(&test).is_err(), "{test}");
        }
        assert!(RuleTest::parse_all(&json!({"tests": {}})).is_err());
        assert!(RuleTest::parse_all(&json!(null)).unwrap().is_empty());
    }
}
