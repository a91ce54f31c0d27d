//! Logging and detection services, per region.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Collected;

/// The logging / detection inventory of one region.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct LoggingData {
    /// cloudtrail:DescribeTrails(includeShadowTrails=true), each with GetTrailStatus and
    /// GetEventSelectors. Multi-region and organisation trails appear in every region;
    /// the controls deduplicate them by `trail_arn`.
    pub trails: Collected<Vec<Trail>>,
    /// config:DescribeConfigurationRecorders.
    pub config_recorders: Collected<Vec<ConfigRecorder>>,
    /// config:DescribeConfigurationRecorderStatus.
    pub config_recorder_statuses: Collected<Vec<ConfigRecorderStatus>>,
    /// logs:DescribeMetricFilters.
    pub metric_filters: Collected<Vec<MetricFilter>>,
    /// cloudwatch:DescribeAlarms (metric alarms).
    pub metric_alarms: Collected<Vec<MetricAlarm>>,
    /// sns:ListSubscriptions.
    pub sns_subscriptions: Collected<Vec<SnsSubscription>>,
    /// securityhub:DescribeHub; `None` = InvalidAccessException (not subscribed).
    pub security_hub: Collected<Option<SecurityHub>>,
    /// guardduty:ListDetectors + GetDetector.
    pub guardduty_detectors: Collected<Vec<GuardDutyDetector>>,
    /// macie2:GetMacieSession; `None` = Macie is not enabled (AccessDeniedException
    /// "Macie is not enabled" — the collector tells it apart from a real denial).
    pub macie_session: Collected<Option<MacieSession>>,
    /// access-analyzer:ListAnalyzers.
    pub access_analyzers: Collected<Vec<AccessAnalyzer>>,
    /// events:ListRules (every event bus), each with ListTargetsByRule.
    pub eventbridge_rules: Collected<Vec<EventRule>>,
}

/// cloudtrail:DescribeTrails → Trail, with status and selectors.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Trail {
    /// Name.
    pub name: String,
    /// TrailARN.
    pub trail_arn: String,
    /// HomeRegion.
    pub home_region: String,
    /// S3BucketName.
    pub s3_bucket_name: Option<String>,
    /// IsMultiRegionTrail.
    pub is_multi_region_trail: bool,
    /// IsOrganizationTrail.
    pub is_organization_trail: bool,
    /// IncludeGlobalServiceEvents.
    pub include_global_service_events: bool,
    /// LogFileValidationEnabled.
    pub log_file_validation_enabled: bool,
    /// KmsKeyId (ARN).
    pub kms_key_id: Option<String>,
    /// CloudWatchLogsLogGroupArn.
    pub cloud_watch_logs_log_group_arn: Option<String>,
    /// SnsTopicARN.
    pub sns_topic_arn: Option<String>,
    /// cloudtrail:GetTrailStatus.
    pub status: Collected<TrailStatus>,
    /// cloudtrail:GetEventSelectors.
    pub selectors: Collected<TrailSelectors>,
}

/// cloudtrail:GetTrailStatus.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct TrailStatus {
    /// IsLogging.
    pub is_logging: bool,
    /// LatestDeliveryTime.
    pub latest_delivery_time: Option<DateTime<Utc>>,
    /// LatestCloudWatchLogsDeliveryTime.
    pub latest_cloud_watch_logs_delivery_time: Option<DateTime<Utc>>,
    /// LatestDeliveryError.
    pub latest_delivery_error: Option<String>,
}

/// cloudtrail:GetEventSelectors: basic or advanced selectors (a trail has one kind).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct TrailSelectors {
    /// EventSelectors.
    pub event_selectors: Vec<EventSelector>,
    /// AdvancedEventSelectors.
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
}

/// A basic event selector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct EventSelector {
    /// ReadWriteType: `ReadOnly`, `WriteOnly`, `All`.
    pub read_write_type: String,
    /// IncludeManagementEvents.
    pub include_management_events: bool,
    /// DataResources.
    pub data_resources: Vec<DataResource>,
    /// ExcludeManagementEventSources.
    pub exclude_management_event_sources: Vec<String>,
}

/// A data resource of a basic selector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct DataResource {
    /// Type (`AWS::S3::Object`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Values (`arn:aws:s3` = all buckets, `arn:aws:s3:::bucket/` = one).
    pub values: Vec<String>,
}

/// An advanced event selector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AdvancedEventSelector {
    /// Name.
    pub name: Option<String>,
    /// FieldSelectors.
    pub field_selectors: Vec<FieldSelector>,
}

/// One field selector of an advanced selector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
#[allow(missing_docs)] // the fields are the API's operators
pub struct FieldSelector {
    /// Field (`eventCategory`, `resources.type`, `readOnly`, `eventSource`, …).
    pub field: String,
    pub equals: Vec<String>,
    pub starts_with: Vec<String>,
    pub ends_with: Vec<String>,
    pub not_equals: Vec<String>,
    pub not_starts_with: Vec<String>,
    pub not_ends_with: Vec<String>,
}

/// config:DescribeConfigurationRecorders → ConfigurationRecorder.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ConfigRecorder {
    /// name.
    pub name: String,
    /// roleARN.
    pub role_arn: Option<String>,
    /// recordingGroup.allSupported.
    pub all_supported: bool,
    /// recordingGroup.includeGlobalResourceTypes.
    pub include_global_resource_types: bool,
    /// recordingGroup.recordingStrategy.useOnly (`ALL_SUPPORTED_RESOURCE_TYPES`, …).
    pub recording_strategy: Option<String>,
}

/// config:DescribeConfigurationRecorderStatus → ConfigurationRecorderStatus.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ConfigRecorderStatus {
    /// name.
    pub name: String,
    /// recording.
    pub recording: bool,
    /// lastStatus: `Pending`, `Success`, `Failure`.
    pub last_status: Option<String>,
}

/// logs:DescribeMetricFilters → MetricFilter.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct MetricFilter {
    /// filterName.
    pub filter_name: String,
    /// logGroupName.
    pub log_group_name: String,
    /// filterPattern.
    pub filter_pattern: String,
    /// metricTransformations[] (metricName, metricNamespace).
    pub metric_transformations: Vec<MetricTransformation>,
}

/// One metric transformation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct MetricTransformation {
    /// metricName.
    pub metric_name: String,
    /// metricNamespace.
    pub metric_namespace: String,
}

/// cloudwatch:DescribeAlarms → MetricAlarm.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct MetricAlarm {
    /// AlarmName.
    pub alarm_name: String,
    /// AlarmArn.
    pub alarm_arn: String,
    /// MetricName.
    pub metric_name: Option<String>,
    /// Namespace.
    pub namespace: Option<String>,
    /// ActionsEnabled.
    pub actions_enabled: bool,
    /// AlarmActions (SNS topic ARNs, …).
    pub alarm_actions: Vec<String>,
}

/// sns:ListSubscriptions → Subscription.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct SnsSubscription {
    /// TopicArn.
    pub topic_arn: String,
    /// SubscriptionArn (`PendingConfirmation` until confirmed).
    pub subscription_arn: String,
    /// Protocol.
    pub protocol: String,
    /// Endpoint.
    pub endpoint: String,
}

/// securityhub:DescribeHub.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct SecurityHub {
    /// HubArn.
    pub hub_arn: String,
    /// SubscribedAt.
    pub subscribed_at: Option<DateTime<Utc>>,
}

/// guardduty:GetDetector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct GuardDutyDetector {
    /// The detector id (ListDetectors).
    pub detector_id: String,
    /// Status: `ENABLED` or `DISABLED`.
    pub status: String,
}

/// macie2:GetMacieSession.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct MacieSession {
    /// status: `ENABLED` or `PAUSED`.
    pub status: String,
    /// createdAt.
    pub created_at: Option<DateTime<Utc>>,
}

/// access-analyzer:ListAnalyzers → AnalyzerSummary.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AccessAnalyzer {
    /// arn.
    pub arn: String,
    /// name.
    pub name: String,
    /// type: `ACCOUNT`, `ORGANIZATION`, `ACCOUNT_UNUSED_ACCESS`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// status: `ACTIVE`, `CREATING`, `DISABLED`, `FAILED`.
    pub status: String,
}

/// events:ListRules → Rule, with its targets.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct EventRule {
    /// Name.
    pub name: String,
    /// Arn.
    pub arn: String,
    /// EventBusName.
    pub event_bus_name: String,
    /// State: `ENABLED`, `DISABLED`, …
    pub state: String,
    /// EventPattern JSON text (`None` for scheduled rules).
    pub event_pattern: Option<String>,
    /// events:ListTargetsByRule → Targets[].Arn.
    pub targets: Collected<Vec<String>>,
}
