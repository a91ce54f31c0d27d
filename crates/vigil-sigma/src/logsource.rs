//! Routing a rule's `logsource` to vigil's log sources, as data (`src/logsources.yaml`).

use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use vigil_event::LogSource;

use crate::yaml;

/// The `logsource:` block of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logsource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

impl std::fmt::Display for Logsource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = [
            ("product", &self.product),
            ("service", &self.service),
            ("category", &self.category),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
        .collect();
        write!(f, "{{{}}}", parts.join(", "))
    }
}

/// One row of the routing table.
#[derive(Debug)]
struct Route {
    product: String,
    services: Vec<String>,
    categories: Vec<String>,
    sources: Vec<LogSource>,
}

const TABLE: &str = include_str!("logsources.yaml");

fn table() -> &'static Result<Vec<Route>, String> {
    static ROUTES: OnceLock<Result<Vec<Route>, String>> = OnceLock::new();
    ROUTES.get_or_init(|| parse_table(TABLE))
}

fn parse_table(text: &str) -> Result<Vec<Route>, String> {
    let docs = yaml::parse_documents(text)
        .map_err(|e| format!("logsources.yaml:{}: {}", e.line, e.reason))?;
    let rows = docs
        .first()
        .and_then(|d| yaml::items(d))
        .unwrap_or_default();
    rows.iter().map(parse_row).collect()
}

fn parse_row(row: &yaml::Node<'_>) -> Result<Route, String> {
    let field = |key: &str| {
        yaml::get(row, key)
            .map(|(_, v)| yaml::strings(v))
            .unwrap_or_default()
    };
    let sources = field("sources")
        .iter()
        .map(|name| LogSource::from_str(name))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("logsources.yaml:{}: {e}", yaml::line(row)))?;
    Ok(Route {
        product: field("product").into_iter().next().unwrap_or_default(),
        services: field("services"),
        categories: field("categories"),
        sources,
    })
}

impl Route {
    fn admits(&self, logsource: &Logsource) -> bool {
        let eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let in_list = |list: &[String], value: &Option<String>| {
            value
                .as_deref()
                .is_some_and(|v| list.iter().any(|item| eq(item, v)))
        };
        logsource
            .product
            .as_deref()
            .is_some_and(|p| eq(p, &self.product))
            && in_list(&self.services, &logsource.service)
            && (self.categories.is_empty() || in_list(&self.categories, &logsource.category))
    }
}

/// The log sources a rule's logsource routes to; an unknown logsource is an error naming it.
pub(crate) fn route(logsource: &Logsource) -> Result<Vec<LogSource>, String> {
    let routes = table().as_ref().map_err(Clone::clone)?;
    let mut sources: Vec<LogSource> = routes
        .iter()
        .filter(|r| r.admits(logsource))
        .flat_map(|r| r.sources.iter().copied())
        .collect();
    sources.sort();
    sources.dedup();
    if sources.is_empty() {
        return Err(format!(
            "unknown logsource {logsource}: vigil reads only the AWS sources in logsources.yaml"
        ));
    }
    Ok(sources)
}

/// A log source by its vigil name (`vpcflow`) or by a service spelling of the table
/// (`vpcflowlogs`), for the `source:` of rule tests.
pub(crate) fn source_by_name(name: &str) -> Option<LogSource> {
    if let Ok(source) = LogSource::from_str(name) {
        return Some(source);
    }
    let routes = table().as_ref().ok()?;
    routes
        .iter()
        .find(|r| r.services.iter().any(|s| s.eq_ignore_ascii_case(name)))
        .and_then(|r| r.sources.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(service: &str) -> Logsource {
        Logsource {
            product: Some("aws".into()),
            service: Some(service.into()),
            category: None,
        }
    }

    #[test]
    fn the_embedded_table_parses() {
        let routes = table().as_ref().unwrap();
        assert!(routes.len() >= 7);
    }

    #[test]
    fn aws_services_route_to_their_sources() {
        let cases = [
            ("cloudtrail", LogSource::CloudTrail),
            ("CloudTrail", LogSource::CloudTrail),
            ("cloudtrail_insight", LogSource::CloudTrailInsight),
            ("vpcflowlogs", LogSource::VpcFlow),
            ("vpcflow", LogSource::VpcFlow),
            ("vpc_flow_logs", LogSource::VpcFlow),
            ("s3_access", LogSource::S3Access),
            ("s3accesslogs", LogSource::S3Access),
            ("s3_server_access", LogSource::S3Access),
            ("guardduty", LogSource::GuardDuty),
            ("securityhub", LogSource::SecurityHub),
            ("trustedadvisor", LogSource::TrustedAdvisor),
            ("trusted_advisor", LogSource::TrustedAdvisor),
        ];
        for (service, source) in cases {
            assert_eq!(route(&aws(service)), Ok(vec![source]), "{service}");
        }
    }

    #[test]
    fn unknown_logsources_are_named_in_the_error() {
        let err = route(&aws("cloudwatch")).unwrap_err();
        assert!(err.contains("service: cloudwatch"), "{err}");
        let windows = Logsource {
            product: Some("windows".into()),
            service: Some("cloudtrail".into()),
            category: None,
        };
        assert!(route(&windows).is_err());
        assert!(route(&Logsource::default()).is_err());
    }

    #[test]
    fn test_sources_resolve_by_name_or_alias() {
        assert_eq!(source_by_name("vpcflow"), Some(LogSource::VpcFlow));
        assert_eq!(source_by_name("vpcflowlogs"), Some(LogSource::VpcFlow));
        assert_eq!(
            source_by_name("trustedadvisor"),
            Some(LogSource::TrustedAdvisor)
        );
        assert_eq!(source_by_name("syslog"), None);
    }
}
