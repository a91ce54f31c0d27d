//! The seam between the controls and resource-policy analysis.
//!
//! Controls 50, 56, 62, 66 and 67 ask who a resource policy (or a role's trust policy) lets
//! in. They do not analyse policies themselves: they ask a [`PolicyVerdicts`], implemented
//! by [`VigilPolicyAnalyzer`] over the `vigil-policy` crate (sound analysis of principals,
//! conditions, Deny, ACLs and Block Public Access) — the default. [`UnwiredPolicyAnalyzer`]
//! answers every question with an error, so those controls report UNKNOWN — never PASS.

mod vigil_policy;

use serde::Serialize;

pub use vigil_policy::VigilPolicyAnalyzer;

use crate::snapshot::{BucketAcl, PublicAccessBlock};

/// The kind of resource a policy is attached to (it changes which actions and condition
/// keys matter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyResourceKind {
    /// S3 bucket policy.
    S3Bucket,
    /// KMS key policy.
    KmsKey,
    /// Lambda function resource policy.
    LambdaFunction,
    /// IAM role trust (assume-role) policy.
    IamRoleTrust,
}

/// Where a policy is attached: this resource, owned by this account.
#[derive(Clone, Debug)]
pub struct PolicyQuery<'a> {
    /// Resource type.
    pub kind: PolicyResourceKind,
    /// The resource's ARN.
    pub resource_arn: &'a str,
    /// The account that owns the resource.
    pub owner_account: &'a str,
    /// Accounts the user trusts (configuration plus the scanned accounts): grants to them
    /// are not "external".
    pub trusted_accounts: &'a [String],
}

/// Who a policy lets in, from the widest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    /// Only the owner account (and AWS services acting for it).
    OwnerOnly,
    /// Named other accounts, organisations or principals.
    CrossAccount,
    /// Anyone, or any AWS account.
    Public,
}

/// One grant the analysis found, for the result's details and reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GrantSummary {
    /// Who: `*`, an account id, an ARN, `o-…`, a service principal.
    pub principal: String,
    /// Actions as written.
    pub actions: Vec<String>,
    /// Condition keys that constrain the grant (`aws:MultiFactorAuthPresent`, …).
    pub condition_keys: Vec<String>,
    /// Human explanation ("Public: anyone can s3:GetObject on … (statement 0)").
    pub explanation: String,
}

/// The answer to a [`PolicyQuery`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyVerdict {
    /// The widest access granted.
    pub exposure: Exposure,
    /// Outside parties granted access: account ids where the principal names one, else the
    /// principal (an organisation id, a service principal usable by any account, …).
    pub external_accounts: Vec<String>,
    /// The Allow grants, with their constraints.
    pub grants: Vec<GrantSummary>,
}

/// Resource-policy analysis, as the controls need it. `Err` carries why the policy could
/// not be analysed (unparseable, analyzer missing); the control reports UNKNOWN with it.
pub trait PolicyVerdicts: Send + Sync {
    /// Who a resource or trust policy (JSON text) lets in.
    fn resource_policy(
        &self,
        policy: &str,
        query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String>;

    /// Who can reach an S3 bucket, combining its policy (if any), ACL and the effective
    /// Block Public Access settings (account OR bucket) the way S3 does.
    fn s3_bucket(
        &self,
        policy: Option<&str>,
        acl: &BucketAcl,
        block: &PublicAccessBlock,
        query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String>;
}

/// The placeholder until `vigil-policy` is wired: every answer is "cannot tell".
#[derive(Clone, Copy, Debug, Default)]
pub struct UnwiredPolicyAnalyzer;

const UNWIRED: &str =
    "resource-policy analysis is not available in this build (vigil-policy is not wired)";

impl PolicyVerdicts for UnwiredPolicyAnalyzer {
    fn resource_policy(
        &self,
        _policy: &str,
        _query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String> {
        Err(UNWIRED.into())
    }

    fn s3_bucket(
        &self,
        _policy: Option<&str>,
        _acl: &BucketAcl,
        _block: &PublicAccessBlock,
        _query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String> {
        Err(UNWIRED.into())
    }
}
