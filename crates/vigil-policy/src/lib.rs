//! Resource-policy analysis: who an AWS resource policy (S3 bucket, KMS key, SQS queue, SNS
//! topic, Lambda function, IAM role trust, Secrets Manager secret, ECR repository) lets in,
//! for which actions, under which conditions.
//!
//! Two engines share one policy model ([`Policy`], parsed strictly with errors naming line,
//! column, statement and element):
//!
//! - [`evaluate`] decides one concrete [`Request`] against the policy alone, with the full
//!   IAM semantics (explicit deny wins; `NotPrincipal`/`NotAction`/`NotResource`; every
//!   condition operator, `IfExists`, `ForAllValues`/`ForAnyValue`, policy variables);
//! - [`analyze`] reasons about *every* outside caller at once and returns an [`Analysis`]:
//!   a [`Verdict`] (public, any authenticated account, cross-account, internal) and the
//!   [`Grant`]s behind it, each with the conditions that really restrict it and a line of
//!   explanation. It is sound: it never calls a policy non-public when some anonymous request
//!   is allowed. [`analyze_s3`] folds in a bucket's ACL and Block Public Access settings.
//!
//! Main types: [`Policy`], [`AnalysisContext`], [`Analysis`], [`Grant`], [`Request`],
//! [`Decision`], [`S3Acl`], [`BlockPublicAccess`].
//!
//! ```
//! use vigil_policy::{analyze, evaluate, AnalysisContext, Decision, Policy, Request,
//!     RequestPrincipal, ResourceKind, Verdict};
//!
//! let policy = Policy::parse(r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [
//!     {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
//!      "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
//!     {"Sid": "Vpce", "Effect": "Allow", "Principal": {"AWS": "444455556666"},
//!      "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
//!      "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-123"}}}
//!   ]}"#).unwrap();
//! let ctx = AnalysisContext::new(ResourceKind::S3Bucket, "111122223333");
//! let analysis = analyze(&policy, &ctx);
//! assert_eq!(analysis.verdict, Verdict::Public);
//! assert_eq!(analysis.grants[0].explanation,
//!     "Public: anyone can s3:GetObject on arn:aws:s3:::b/* (statement 0, Sid PublicRead)");
//! assert_eq!(analysis.grants[1].explanation,
//!     "Cross-account: account 444455556666 can s3:PutObject on arn:aws:s3:::b/*, \
//!      only when aws:SourceVpce = vpce-123 (statement 1, Sid Vpce)");
//!
//! let anonymous = Request::new(RequestPrincipal::Anonymous, "s3:GetObject", "arn:aws:s3:::b/k");
//! assert_eq!(evaluate(&policy, &anonymous), Decision::Allow);
//! ```

mod actions;
mod analyze;
pub mod bench;
mod condition;
mod context;
mod error;
mod evaluate;
mod glob;
mod keys;
mod model;
mod outsider;
mod parse;
mod s3;
mod variables;

pub use actions::{summarize, AccessSummary};
pub use analyze::{analyze, Analysis, Grant, GrantSource, PrincipalClass, Verdict};
pub use context::{AnalysisContext, ResourceKind};
pub use error::{Location, PolicyError};
pub use evaluate::{
    evaluate, evaluate_detail, ContextValue, Decision, Evaluation, Request, RequestPrincipal,
};
pub use model::{
    ActionBlock, BaseOperator, Condition, ConditionOperator, Effect, Policy, PolicyVersion,
    Principal, PrincipalBlock, ResourceBlock, SetQualifier, Statement,
};
pub use outsider::{Restriction, RestrictionKind};
pub use s3::{
    analyze_s3, AclGrant, AclGrantee, AclPermission, BlockPublicAccess, S3Acl, ALL_USERS_URI,
    AUTHENTICATED_USERS_URI, LOG_DELIVERY_URI,
};
