//! Control 33 (CIS 4.1–4.15): for each of 15 event classes, a metric filter on a
//! CloudTrail log group, an alarm on the filter's metric, and an SNS topic with a confirmed
//! subscription behind the alarm.
//!
//! Filter patterns are matched by the terms CIS requires in them, after removing spaces and
//! quotes and lower-casing (`($.eventName = "ConsoleLogin")` and `($.eventName=ConsoleLogin)`
//! are the same term). A pattern must contain every required term; extra terms (exclusions
//! of noise) are accepted, as the CIS audit procedure does.

use std::collections::HashSet;

use serde_json::json;

use super::support::{account_ref, Out, GLOBAL};
use super::trails;
use super::Ctx;
use crate::snapshot::{AccountSnapshot, LoggingData, MetricFilter};

/// One CIS event class and the terms its filter pattern must contain.
pub(crate) struct EventClass {
    pub cis: &'static str,
    pub name: &'static str,
    pub terms: &'static [&'static str],
}

pub(crate) const EVENT_CLASSES: [EventClass; 15] = [
    EventClass {
        cis: "4.1",
        name: "unauthorized API calls",
        terms: &[
            "$.errorcode=*unauthorizedoperation",
            "$.errorcode=accessdenied*",
        ],
    },
    EventClass {
        cis: "4.2",
        name: "console sign-in without MFA",
        terms: &[
            "$.eventname=consolelogin",
            "$.additionaleventdata.mfaused!=yes",
        ],
    },
    EventClass {
        cis: "4.3",
        name: "root account use",
        terms: &["$.useridentity.type=root"],
    },
    EventClass {
        cis: "4.4",
        name: "IAM policy changes",
        terms: &[
            "$.eventname=deletegrouppolicy",
            "$.eventname=deleterolepolicy",
            "$.eventname=deleteuserpolicy",
            "$.eventname=putgrouppolicy",
            "$.eventname=putrolepolicy",
            "$.eventname=putuserpolicy",
            "$.eventname=createpolicy",
            "$.eventname=deletepolicy",
            "$.eventname=createpolicyversion",
            "$.eventname=deletepolicyversion",
            "$.eventname=attachrolepolicy",
            "$.eventname=detachrolepolicy",
            "$.eventname=attachuserpolicy",
            "$.eventname=detachuserpolicy",
            "$.eventname=attachgrouppolicy",
            "$.eventname=detachgrouppolicy",
        ],
    },
    EventClass {
        cis: "4.5",
        name: "CloudTrail configuration changes",
        terms: &[
            "$.eventname=createtrail",
            "$.eventname=updatetrail",
            "$.eventname=deletetrail",
            "$.eventname=startlogging",
            "$.eventname=stoplogging",
        ],
    },
    EventClass {
        cis: "4.6",
        name: "console authentication failures",
        terms: &[
            "$.eventname=consolelogin",
            "$.errormessage=failedauthentication",
        ],
    },
    EventClass {
        cis: "4.7",
        name: "CMK disabling or scheduled deletion",
        terms: &[
            "$.eventsource=kms.amazonaws.com",
            "$.eventname=disablekey",
            "$.eventname=schedulekeydeletion",
        ],
    },
    EventClass {
        cis: "4.8",
        name: "S3 bucket policy changes",
        terms: &[
            "$.eventsource=s3.amazonaws.com",
            "$.eventname=putbucketacl",
            "$.eventname=putbucketpolicy",
            "$.eventname=putbucketcors",
            "$.eventname=putbucketlifecycle",
            "$.eventname=putbucketreplication",
            "$.eventname=deletebucketpolicy",
            "$.eventname=deletebucketcors",
            "$.eventname=deletebucketlifecycle",
            "$.eventname=deletebucketreplication",
        ],
    },
    EventClass {
        cis: "4.9",
        name: "AWS Config changes",
        terms: &[
            "$.eventsource=config.amazonaws.com",
            "$.eventname=stopconfigurationrecorder",
            "$.eventname=deletedeliverychannel",
            "$.eventname=putdeliverychannel",
            "$.eventname=putconfigurationrecorder",
        ],
    },
    EventClass {
        cis: "4.10",
        name: "security group changes",
        terms: &[
            "$.eventname=authorizesecuritygroupingress",
            "$.eventname=authorizesecuritygroupegress",
            "$.eventname=revokesecuritygroupingress",
            "$.eventname=revokesecuritygroupegress",
            "$.eventname=createsecuritygroup",
            "$.eventname=deletesecuritygroup",
        ],
    },
    EventClass {
        cis: "4.11",
        name: "NACL changes",
        terms: &[
            "$.eventname=createnetworkacl",
            "$.eventname=createnetworkaclentry",
            "$.eventname=deletenetworkacl",
            "$.eventname=deletenetworkaclentry",
            "$.eventname=replacenetworkaclentry",
            "$.eventname=replacenetworkaclassociation",
        ],
    },
    EventClass {
        cis: "4.12",
        name: "network gateway changes",
        terms: &[
            "$.eventname=createcustomergateway",
            "$.eventname=deletecustomergateway",
            "$.eventname=attachinternetgateway",
            "$.eventname=createinternetgateway",
            "$.eventname=deleteinternetgateway",
            "$.eventname=detachinternetgateway",
        ],
    },
    EventClass {
        cis: "4.13",
        name: "route table changes",
        terms: &[
            "$.eventname=createroute",
            "$.eventname=createroutetable",
            "$.eventname=replaceroute",
            "$.eventname=replaceroutetableassociation",
            "$.eventname=deleteroutetable",
            "$.eventname=deleteroute",
            "$.eventname=disassociateroutetable",
        ],
    },
    EventClass {
        cis: "4.14",
        name: "VPC changes",
        terms: &[
            "$.eventname=createvpc",
            "$.eventname=deletevpc",
            "$.eventname=modifyvpcattribute",
            "$.eventname=acceptvpcpeeringconnection",
            "$.eventname=createvpcpeeringconnection",
            "$.eventname=deletevpcpeeringconnection",
            "$.eventname=rejectvpcpeeringconnection",
            "$.eventname=attachclassiclinkvpc",
            "$.eventname=detachclassiclinkvpc",
            "$.eventname=disablevpcclassiclink",
            "$.eventname=enablevpcclassiclink",
        ],
    },
    EventClass {
        cis: "4.15",
        name: "AWS Organizations changes",
        terms: &[
            "$.eventsource=organizations.amazonaws.com",
            "$.eventname=accepthandshake",
            "$.eventname=attachpolicy",
            "$.eventname=createaccount",
            "$.eventname=createorganizationalunit",
            "$.eventname=createpolicy",
            "$.eventname=declinehandshake",
            "$.eventname=deleteorganization",
            "$.eventname=deleteorganizationalunit",
            "$.eventname=deletepolicy",
            "$.eventname=detachpolicy",
            "$.eventname=disablepolicytype",
            "$.eventname=enablepolicytype",
            "$.eventname=inviteaccounttoorganization",
            "$.eventname=leaveorganization",
            "$.eventname=moveaccount",
            "$.eventname=removeaccountfromorganization",
            "$.eventname=updatepolicy",
            "$.eventname=updateorganizationalunit",
        ],
    },
];

/// A filter pattern without whitespace and quotes, lower-cased.
fn normalise(pattern: &str) -> String {
    pattern
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `term` occurs in `text` and is not the prefix of a longer name (`createpolicy` must not
/// be satisfied by `createpolicyversion`).
fn has_term(text: &str, term: &str) -> bool {
    text.match_indices(term).any(|(start, _)| {
        text[start + term.len()..]
            .chars()
            .next()
            .is_none_or(|next| !next.is_ascii_alphanumeric())
    })
}

impl EventClass {
    fn matches(&self, pattern: &str) -> bool {
        let text = normalise(pattern);
        self.terms.iter().all(|term| has_term(&text, term))
    }
}

/// A CloudTrail log group: where its filters and alarms live.
struct LogGroup<'a> {
    name: String,
    logging: &'a LoggingData,
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]` → (region, account, name).
fn parse_log_group_arn(arn: &str) -> Option<(&str, &str, String)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    if parts.len() < 7 || parts[2] != "logs" || parts[5] != "log-group" {
        return None;
    }
    let name = parts[6].strip_suffix(":*").unwrap_or(parts[6]);
    Some((parts[3], parts[4], name.to_string()))
}

/// Why a class is not covered in one log group, or `None` when it is.
fn class_gap(class: &EventClass, group: &LogGroup<'_>) -> Result<Option<String>, String> {
    let filters = group
        .logging
        .metric_filters
        .get("logs:DescribeMetricFilters")
        .map_err(|gap| gap.0)?;
    let matching: Vec<&MetricFilter> = filters
        .iter()
        .filter(|f| f.log_group_name == group.name && class.matches(&f.filter_pattern))
        .collect();
    if matching.is_empty() {
        return Ok(Some("no metric filter".into()));
    }
    let alarms = group
        .logging
        .metric_alarms
        .get("cloudwatch:DescribeAlarms")
        .map_err(|gap| gap.0)?;
    let subscriptions = group
        .logging
        .sns_subscriptions
        .get("sns:ListSubscriptions")
        .map_err(|gap| gap.0)?;
    let confirmed: HashSet<&str> = subscriptions
        .iter()
        .filter(|s| s.subscription_arn.starts_with("arn:"))
        .map(|s| s.topic_arn.as_str())
        .collect();
    let mut alarmed = false;
    for filter in &matching {
        for metric in &filter.metric_transformations {
            let on_metric = alarms.iter().filter(|a| {
                a.metric_name.as_deref() == Some(metric.metric_name.as_str())
                    && a.namespace.as_deref() == Some(metric.metric_namespace.as_str())
                    && a.actions_enabled
            });
            for alarm in on_metric {
                alarmed = true;
                if alarm
                    .alarm_actions
                    .iter()
                    .any(|t| confirmed.contains(t.as_str()))
                {
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(if alarmed {
        "alarm has no SNS topic with a confirmed subscription".into()
    } else {
        "metric filter has no enabled alarm".into()
    }))
}

/// The log groups of logging multi-region trails, found in the scanned accounts.
fn log_groups<'a>(
    ctx: &'a Ctx<'_>,
    account: &'a AccountSnapshot,
) -> (Vec<LogGroup<'a>>, Vec<String>) {
    let view = trails::visible(account);
    let mut groups = Vec::new();
    let mut gaps = view.gaps;
    for trail in view.trails.iter().filter(|t| t.is_multi_region_trail) {
        let logging = trail.status.ok().is_some_and(|s| s.is_logging);
        let Some(arn) = trail
            .cloud_watch_logs_log_group_arn
            .as_deref()
            .filter(|_| logging)
        else {
            continue;
        };
        let Some((region, owner, name)) = parse_log_group_arn(arn) else {
            gaps.push(format!(
                "trail {} has an unreadable log group ARN {arn}",
                trail.name
            ));
            continue;
        };
        let home = if owner == account.account_id {
            Some(account)
        } else {
            ctx.snapshot.account(owner)
        };
        match home.and_then(|a| a.regions.iter().find(|r| r.region == region)) {
            Some(data) => groups.push(LogGroup {
                name,
                logging: &data.logging,
            }),
            None => gaps.push(format!(
                "log group {arn} is in an account or region not scanned"
            )),
        }
    }
    (groups, gaps)
}

pub(crate) fn evaluate(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let (groups, mut gaps) = log_groups(ctx, account);
    if groups.is_empty() {
        if gaps.is_empty() {
            let reason = "No logging multi-region trail sends to CloudWatch Logs, so no event class is monitored.";
            let all: Vec<&str> = EVENT_CLASSES.iter().map(|c| c.cis).collect();
            return out.fail(here, reason, json!({ "missing": all }));
        }
        return out.unknown(here, gaps.join("; "));
    }
    let mut missing = Vec::new();
    for class in &EVENT_CLASSES {
        let mut why = Vec::new();
        let mut covered = false;
        for group in &groups {
            match class_gap(class, group) {
                Ok(None) => covered = true,
                Ok(Some(reason)) => why.push(reason),
                Err(gap) => gaps.push(gap),
            }
        }
        if !covered {
            missing.push(json!({ "cis": class.cis, "class": class.name, "why": why.join("; ") }));
        }
    }
    let names: Vec<String> = missing
        .iter()
        .map(|m| {
            format!(
                "{} ({})",
                m["class"].as_str().unwrap_or_default(),
                m["cis"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if missing.is_empty() {
        out.pass(
            here,
            "All 15 CIS event classes have a metric filter, an alarm and a subscribed topic.",
        );
    } else if !gaps.is_empty() {
        gaps.dedup();
        out.unknown(
            here,
            format!(
                "{}; unverified classes: {}",
                gaps.join("; "),
                names.join(", ")
            ),
        );
    } else {
        let reason = format!(
            "{} of 15 event classes are not monitored: {}.",
            missing.len(),
            names.join(", ")
        );
        out.fail(here, reason, json!({ "missing": missing }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_ignore_spacing_quotes_and_case_but_not_longer_names() {
        let class = &EVENT_CLASSES[2];
        assert!(class.matches(r#"{ $.userIdentity.type = "Root" }"#));
        assert!(class.matches("{$.userIdentity.type=Root}"));
        assert!(!class.matches("{$.userIdentity.type=RootX}"));
        assert!(has_term(
            "($.eventname=createpolicy)",
            "$.eventname=createpolicy"
        ));
        assert!(!has_term(
            "($.eventname=createpolicyversion)",
            "$.eventname=createpolicy"
        ));
    }

    #[test]
    fn log_group_arns_parse() {
        let parsed = parse_log_group_arn("arn:aws:logs:eu-west-1:111122223333:log-group:ct/logs:*");
        assert_eq!(
            parsed,
            Some(("eu-west-1", "111122223333", "ct/logs".to_string()))
        );
        assert_eq!(parse_log_group_arn("arn:aws:s3:::bucket"), None);
    }
}
