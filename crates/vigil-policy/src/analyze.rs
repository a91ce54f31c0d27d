//! Who a resource policy lets in: for each `Allow` statement and each class of caller it
//! names ([`crate::outsider`]), which conditions narrow it, which `Deny` statements take it
//! away for certain, and what is left, as [`Grant`]s with an exposure and an explanation.
//!
//! Soundness rules, from the IAM evaluation logic: a `Deny` removes access only when it is
//! certain to apply to that caller: its principal covers the caller, its actions and
//! resources cover the grant's, and each of its conditions holds whatever the caller does
//! (true for it, or true for everyone outside a fixed set, which then becomes a restriction
//! of the grant). A `Deny` the caller can sidestep (a key it controls, `IfExists`, a
//! wildcard) removes nothing.

use serde::{Deserialize, Serialize};

use crate::actions::{summarize, AccessSummary};
use crate::context::{AnalysisContext, ResourceKind};
use crate::evaluate::provider_host;
use crate::glob::Glob;
use crate::keys;
use crate::model::{Effect, Policy, Principal, PrincipalBlock, Statement};
use crate::outsider::{outcome, Outcome, Profile, Restriction, RestrictionKind};
use crate::variables;

/// How far access reaches, from least to most exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// Only the owner account and the zone of trust (trusted accounts, organisations,
    /// networks, and service principals acting for them).
    Internal,
    /// Named outside accounts, organisations, federated identities or networks, or a
    /// service principal not tied to the owner (confused deputy).
    CrossAccount,
    /// Any authenticated AWS principal in any account (S3 counts this as public).
    AnyAuthenticated,
    /// Anyone, including unauthenticated callers.
    Public,
}

impl Verdict {
    /// S3's meaning of public: anyone, or any authenticated AWS principal.
    pub fn is_public(self) -> bool {
        self >= Verdict::AnyAuthenticated
    }

    /// Label used in explanations.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Internal => "Internal",
            Verdict::CrossAccount => "Cross-account",
            Verdict::AnyAuthenticated => "Any AWS account",
            Verdict::Public => "Public",
        }
    }
}

/// Who a grant is for, narrowed by its restrictions where one names a single identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id")]
pub enum PrincipalClass {
    /// Anyone, including unauthenticated callers.
    Public,
    /// Any authenticated principal of any AWS account.
    AnyAwsAccount,
    /// Any AWS service principal.
    AnyService,
    /// Every principal of an account (the account id, or its root ARN).
    Account(String),
    /// One user, role or session ARN.
    AwsPrincipal(String),
    /// The accounts of an organisation.
    Org(String),
    /// An AWS service principal.
    Service(String),
    /// Identities federated by a provider.
    Federated(String),
    /// An S3 canonical user.
    CanonicalUser(String),
}

impl PrincipalClass {
    /// `anyone`, `account 111122223333`, ...
    pub fn describe(&self) -> String {
        match self {
            PrincipalClass::Public => "anyone".into(),
            PrincipalClass::AnyAwsAccount => "any authenticated AWS principal".into(),
            PrincipalClass::AnyService => "any AWS service".into(),
            PrincipalClass::Account(a) => format!("account {a}"),
            PrincipalClass::AwsPrincipal(arn) => arn.clone(),
            PrincipalClass::Org(o) => format!("organization {o}"),
            PrincipalClass::Service(s) => format!("service {s}"),
            PrincipalClass::Federated(p) => format!("identities federated by {p}"),
            PrincipalClass::CanonicalUser(c) => format!("canonical user {c}"),
        }
    }
}

/// One access the policy gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Where the grant comes from: the policy, or the S3 bucket ACL.
    pub source: GrantSource,
    /// The `Allow` statement (index) and its `Sid`; for an ACL grant, its index in the ACL.
    pub statement: usize,
    pub sid: Option<String>,
    pub principal: PrincipalClass,
    pub exposure: Verdict,
    /// Action patterns as written (the part no `Deny` removed).
    pub actions: Vec<String>,
    /// True when `actions` is a `NotAction` list.
    pub not_action: bool,
    pub access: AccessSummary,
    /// Resource patterns as written; empty when the statement has no `Resource` (it then
    /// applies to the resource the policy is attached to).
    pub resources: Vec<String>,
    pub not_resource: bool,
    /// Conditions that narrow who can use the grant: every group must hold, and a group
    /// holds when any of its restrictions does.
    pub restrictions: Vec<Vec<Restriction>>,
    /// Conditions (and denies) that do not narrow it, and why.
    pub non_restricting: Vec<String>,
    /// One line for findings and the CLI.
    pub explanation: String,
}

/// What gives a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantSource {
    /// A statement of the resource policy.
    Policy,
    /// A grant of the S3 bucket ACL.
    BucketAcl,
}

/// The result of [`analyze`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// The most exposed grant's exposure; `Internal` when nothing reaches outside.
    pub verdict: Verdict,
    pub grants: Vec<Grant>,
    /// Statements skipped, denies applied, limits of the analysis.
    pub notes: Vec<String>,
}

impl Analysis {
    /// Public in S3's sense: anyone, or any authenticated AWS principal.
    pub fn is_public(&self) -> bool {
        self.verdict.is_public()
    }

    /// Grants at least as exposed as `level`.
    pub fn grants_at_least(&self, level: Verdict) -> impl Iterator<Item = &Grant> {
        self.grants.iter().filter(move |g| g.exposure >= level)
    }

    pub(crate) fn from_parts(grants: Vec<Grant>, notes: Vec<String>) -> Analysis {
        let verdict = grants
            .iter()
            .map(|g| g.exposure)
            .max()
            .unwrap_or(Verdict::Internal);
        Analysis {
            verdict,
            grants,
            notes,
        }
    }
}

/// Analyse who `policy` lets in, for the resource described by `ctx`.
pub fn analyze(policy: &Policy, ctx: &AnalysisContext) -> Analysis {
    let mut notes = Vec::new();
    let mut grants = Vec::new();
    for statement in &policy.statements {
        if statement.effect != Effect::Allow {
            continue;
        }
        let Some(block) = &statement.principal else {
            notes.push(format!(
                "{} has no Principal: it is an identity-policy statement and grants nothing in a resource policy",
                statement.label()
            ));
            continue;
        };
        if block.negated {
            notes.push(format!(
                "{} allows with NotPrincipal: everyone except the listed principals, including anonymous callers",
                statement.label()
            ));
        }
        let drafts = statement_drafts(policy, statement, block, ctx, &mut notes);
        grants.extend(drafts.into_iter().map(|d| d.finish(statement, ctx)));
    }
    Analysis::from_parts(grants, notes)
}

/// A grant being worked out.
#[derive(Debug, Clone)]
struct Draft {
    profile: Profile,
    actions: Vec<String>,
    not_action: bool,
    groups: Vec<Vec<Restriction>>,
    non_restricting: Vec<String>,
}

fn profiles_for(block: &PrincipalBlock) -> Vec<Profile> {
    if block.negated {
        return Profile::everyone();
    }
    let mut profiles: Vec<Profile> = Vec::new();
    for entry in &block.entries {
        for profile in Profile::for_entry(entry) {
            if !profiles.contains(&profile) {
                profiles.push(profile);
            }
        }
    }
    profiles
}

fn statement_drafts(
    policy: &Policy,
    statement: &Statement,
    block: &PrincipalBlock,
    ctx: &AnalysisContext,
    notes: &mut Vec<String>,
) -> Vec<Draft> {
    let mut out: Vec<(Draft, Verdict)> = Vec::new();
    'profiles: for profile in profiles_for(block) {
        let mut draft = Draft {
            profile: profile.clone(),
            actions: statement.action.patterns.clone(),
            not_action: statement.action.negated,
            groups: Vec::new(),
            non_restricting: Vec::new(),
        };
        if block.negated {
            let listed: Vec<String> = block.entries.iter().map(ToString::to_string).collect();
            draft.non_restricting.push(format!(
                "NotPrincipal: everyone except {}",
                listed.join(", ")
            ));
        }
        for condition in &statement.conditions {
            match outcome(condition, statement.index, &profile, policy.version) {
                Outcome::False => continue 'profiles,
                Outcome::OnlyIf(r) => draft.groups.push(vec![r]),
                Outcome::True(why) | Outcome::Choosable(why) => draft.non_restricting.push(
                    format!("{}: does not restrict, {why}", condition.describe()),
                ),
                Outcome::Unless(_) => draft.non_restricting.push(format!(
                    "{}: does not restrict, a caller outside the listed values satisfies it",
                    condition.describe()
                )),
            }
        }
        let mut drafts = vec![draft];
        for deny in policy
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Deny)
        {
            drafts = drafts
                .into_iter()
                .flat_map(|d| apply_deny(policy, deny, d, statement, ctx, notes))
                .collect();
        }
        for d in drafts {
            let exposure = d.exposure(ctx);
            out.push((d, exposure));
        }
    }
    // Everyone (`*`) is read as three callers (anonymous, any account, any service); keep
    // the most exposed reading of each action set, not all three.
    let mut kept: Vec<(Draft, Verdict)> = Vec::new();
    for (draft, exposure) in out {
        let shadowed = draft.profile.is_wildcard()
            && kept.iter().any(|(k, e)| {
                k.profile.is_wildcard() && k.actions == draft.actions && *e >= exposure
            });
        if shadowed {
            continue;
        }
        kept.retain(|(k, e)| {
            !(draft.profile.is_wildcard()
                && k.profile.is_wildcard()
                && k.actions == draft.actions
                && *e < exposure)
        });
        kept.push((draft, exposure));
    }
    kept.into_iter().map(|(d, _)| d).collect()
}

/// Apply one `Deny` to one draft: unchanged, removed, split by actions, or narrowed.
fn apply_deny(
    policy: &Policy,
    deny: &Statement,
    mut draft: Draft,
    allow: &Statement,
    ctx: &AnalysisContext,
    notes: &mut Vec<String>,
) -> Vec<Draft> {
    let Some(block) = &deny.principal else {
        return vec![draft];
    };
    if !deny_covers_profile(block, &draft.profile) || !resources_covered(deny, allow, ctx) {
        return vec![draft];
    }
    let (covered, uncovered) = split_actions(deny, &draft);
    if covered.is_empty() {
        return vec![draft];
    }
    let mut unless = Vec::new();
    for condition in &deny.conditions {
        match outcome(condition, deny.index, &draft.profile, policy.version) {
            Outcome::True(_) => {}
            Outcome::Unless(mut r) => {
                r.from_deny = true;
                unless.push(r);
            }
            Outcome::False | Outcome::Choosable(_) | Outcome::OnlyIf(_) => {
                draft.non_restricting.push(format!(
                    "{} (Deny) does not remove this access: the caller can avoid {}",
                    deny.label(),
                    condition.describe()
                ));
                return vec![draft];
            }
        }
    }
    let mut out = Vec::new();
    if !uncovered.is_empty() {
        let mut rest = draft.clone();
        rest.actions = uncovered;
        out.push(rest);
    }
    if unless.is_empty() {
        notes.push(format!(
            "{} (Deny) removes {} from what {} allows {}",
            deny.label(),
            covered.join(", "),
            allow.label(),
            draft.profile_label()
        ));
    } else {
        let mut narrowed = draft;
        narrowed.actions = covered;
        narrowed.groups.push(unless);
        out.push(narrowed);
    }
    out
}

fn deny_covers_profile(block: &PrincipalBlock, profile: &Profile) -> bool {
    let listed_account = |account: &str| {
        block.entries.iter().any(|e| matches!(e, Principal::Aws(id) if crate::evaluate::entry_account_only(id) == Some(account)))
    };
    let listed_arn = |arn: &str| {
        block
            .entries
            .iter()
            .any(|e| matches!(e, Principal::Aws(id) if id == arn))
    };
    if block.negated {
        // NotPrincipal: the Deny applies to every caller not listed; a named account's
        // principals escape only when the account and the principal are both listed.
        return match profile {
            Profile::Anonymous | Profile::AnyAccount | Profile::AnyService => true,
            Profile::Account { account, arn: None } => !listed_account(account),
            Profile::Account {
                account,
                arn: Some(arn),
            } => !listed_account(account) || !listed_arn(arn),
            Profile::Service(s) => !block
                .entries
                .iter()
                .any(|e| matches!(e, Principal::Service(x) if x.eq_ignore_ascii_case(s))),
            Profile::Federated(p) => !block.entries.iter().any(
                |e| matches!(e, Principal::Federated(x) if provider_host(x) == provider_host(p)),
            ),
            Profile::Canonical(c) => !block
                .entries
                .iter()
                .any(|e| matches!(e, Principal::CanonicalUser(x) if x == c)),
        };
    }
    block.entries.iter().any(|entry| match (entry, profile) {
        (Principal::Everyone, _) => true,
        (Principal::Aws(id), _) if id == "*" => true,
        (Principal::Aws(id), Profile::Account { account, arn }) => {
            match crate::evaluate::entry_account_only(id) {
                Some(a) => a == account,
                None => arn.as_deref() == Some(id.as_str()),
            }
        }
        (Principal::Service(s), Profile::Service(p)) => s.eq_ignore_ascii_case(p),
        (Principal::Federated(f), Profile::Federated(p)) => provider_host(f) == provider_host(p),
        (Principal::CanonicalUser(c), Profile::Canonical(p)) => c == p,
        _ => false,
    })
}

/// Split the draft's actions into those the deny surely covers and the rest.
fn split_actions(deny: &Statement, draft: &Draft) -> (Vec<String>, Vec<String>) {
    let deny_all = !deny.action.negated && deny.action.globs.iter().any(Glob::matches_everything);
    if draft.not_action {
        return if deny_all {
            (draft.actions.clone(), Vec::new())
        } else {
            (Vec::new(), draft.actions.clone())
        };
    }
    draft.actions.iter().cloned().partition(|action| {
        let glob = Glob::new(action, true);
        if deny.action.negated {
            glob.is_literal() && !deny.action.globs.iter().any(|g| g.matches(action))
        } else {
            deny.action.globs.iter().any(|g| g.covers(&glob))
        }
    })
}

/// Does the deny's `Resource` surely cover every resource of the allow statement?
fn resources_covered(deny: &Statement, allow: &Statement, ctx: &AnalysisContext) -> bool {
    let Some(deny_res) = &deny.resource else {
        return true;
    };
    let version = crate::model::PolicyVersion::V2012_10_17;
    let deny_globs: Vec<Glob> = deny_res
        .patterns
        .iter()
        .filter(|p| !variables::has_variables(p, version))
        .map(|p| Glob::new(p, false))
        .collect();
    let all_variables_free = deny_globs.len() == deny_res.patterns.len();
    let everything = !deny_res.negated && deny_globs.iter().any(Glob::matches_everything);
    if everything {
        return true;
    }
    let Some(allow_res) = &allow.resource else {
        return match &ctx.resource_arn {
            Some(arn) if !deny_res.negated => deny_globs.iter().any(|g| g.matches(arn)),
            Some(arn) => all_variables_free && !deny_globs.iter().any(|g| g.matches(arn)),
            None => false,
        };
    };
    if allow_res.negated {
        return false;
    }
    allow_res.patterns.iter().all(|pattern| {
        if variables::has_variables(pattern, version) {
            return false;
        }
        let glob = Glob::new(pattern, false);
        if deny_res.negated {
            all_variables_free
                && glob.is_literal()
                && !deny_globs.iter().any(|g| g.matches(pattern))
        } else {
            deny_globs.iter().any(|g| g.covers(&glob))
        }
    })
}

impl Draft {
    fn profile_label(&self) -> String {
        self.base_class().describe()
    }

    fn base_class(&self) -> PrincipalClass {
        match &self.profile {
            Profile::Anonymous => PrincipalClass::Public,
            Profile::AnyAccount => PrincipalClass::AnyAwsAccount,
            Profile::AnyService => PrincipalClass::AnyService,
            Profile::Account { account, arn: None } => PrincipalClass::Account(account.clone()),
            Profile::Account { arn: Some(arn), .. } => PrincipalClass::AwsPrincipal(arn.clone()),
            Profile::Service(s) => PrincipalClass::Service(s.clone()),
            Profile::Federated(p) => PrincipalClass::Federated(p.clone()),
            Profile::Canonical(c) => PrincipalClass::CanonicalUser(c.clone()),
        }
    }

    /// The principal, narrowed by a restriction naming one identity.
    fn class(&self) -> PrincipalClass {
        let base = self.base_class();
        if !self.profile.is_wildcard() {
            return base;
        }
        let single = |kind: RestrictionKind| {
            self.groups.iter().find_map(|g| match g.as_slice() {
                [r] if r.kind == kind && r.values.len() == 1 => Some(r.values[0].clone()),
                _ => None,
            })
        };
        if let Some(arn) = single(RestrictionKind::Principal) {
            if arn.contains(":iam::") && !arn.contains('*') {
                return PrincipalClass::AwsPrincipal(arn);
            }
        }
        if let Some(account) = single(RestrictionKind::Account) {
            return PrincipalClass::Account(account);
        }
        if let Some(org) = single(RestrictionKind::Organization) {
            let org = org.split('/').next().unwrap_or(&org).to_string();
            return PrincipalClass::Org(org);
        }
        if let Some(service) = single(RestrictionKind::Service) {
            return PrincipalClass::Service(service);
        }
        base
    }

    fn exposure(&self, ctx: &AnalysisContext) -> Verdict {
        let base = match &self.profile {
            Profile::Anonymous => Verdict::Public,
            Profile::AnyAccount | Profile::AnyService => Verdict::AnyAuthenticated,
            Profile::Account { account, .. } if ctx.account_in_zone(account) => Verdict::Internal,
            Profile::Account { .. } | Profile::Canonical(_) => Verdict::CrossAccount,
            Profile::Service(_) => service_exposure(ctx),
            Profile::Federated(p) => federated_exposure(p, ctx),
        };
        self.groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|r| restriction_exposure(r, ctx))
                    .max()
                    .unwrap_or(Verdict::Public)
            })
            .fold(base, std::cmp::min)
    }

    fn finish(self, statement: &Statement, ctx: &AnalysisContext) -> Grant {
        let exposure = self.exposure(ctx);
        let principal = self.class();
        let mut non_restricting = self.non_restricting.clone();
        if let Profile::Service(s) = &self.profile {
            if self.groups.is_empty() && ctx.kind != ResourceKind::IamRoleTrust {
                non_restricting.push(format!(
                    "no aws:SourceAccount, aws:SourceArn or aws:SourceOrgID condition: {s} acting for any account can use this grant (confused deputy)"
                ));
            }
        }
        if let Profile::Federated(p) = &self.profile {
            if self.groups.is_empty() && exposure == Verdict::Public {
                non_restricting.push(format!(
                    "anyone with an identity at {} can use this grant: add a condition on its subject claim",
                    provider_host(p)
                ));
            }
        }
        let (resources, not_resource) = match &statement.resource {
            Some(r) => (r.patterns.clone(), r.negated),
            None => (Vec::new(), false),
        };
        let access = summarize(&self.actions, self.not_action);
        let mut grant = Grant {
            source: GrantSource::Policy,
            statement: statement.index,
            sid: statement.sid.clone(),
            principal,
            exposure,
            actions: self.actions,
            not_action: self.not_action,
            access,
            resources,
            not_resource,
            restrictions: self.groups,
            non_restricting,
            explanation: String::new(),
        };
        grant.explanation = explain(&grant, statement, ctx);
        grant
    }
}

fn service_exposure(ctx: &AnalysisContext) -> Verdict {
    // A role trusted by a service is used by that service for the owner's own resources;
    // elsewhere a service principal without a source condition is a confused deputy.
    if ctx.kind == ResourceKind::IamRoleTrust {
        Verdict::Internal
    } else {
        Verdict::CrossAccount
    }
}

fn federated_exposure(provider: &str, ctx: &AnalysisContext) -> Verdict {
    let host = provider_host(provider);
    if keys::PUBLIC_IDENTITY_PROVIDERS.contains(&host.as_str()) {
        return Verdict::Public;
    }
    match keys::arn_account_literal(provider) {
        Some(account) if ctx.account_in_zone(account) => Verdict::Internal,
        _ => Verdict::CrossAccount,
    }
}

fn restriction_exposure(r: &Restriction, ctx: &AnalysisContext) -> Verdict {
    let internal = match r.kind {
        RestrictionKind::Account => r.values.iter().all(|v| ctx.account_in_zone(v)),
        RestrictionKind::Organization => r
            .values
            .iter()
            .all(|v| ctx.org_in_zone(v.split('/').next().unwrap_or(v))),
        RestrictionKind::Principal | RestrictionKind::KmsKey => r
            .values
            .iter()
            .all(|v| keys::arn_account_literal(v).is_some_and(|a| ctx.account_in_zone(a))),
        RestrictionKind::Network => r.values.iter().all(|v| ctx.network_in_zone(v)),
        RestrictionKind::Service => return service_exposure(ctx),
        RestrictionKind::FederatedIdentity => false,
    };
    if internal {
        Verdict::Internal
    } else {
        Verdict::CrossAccount
    }
}

fn explain(grant: &Grant, statement: &Statement, ctx: &AnalysisContext) -> String {
    let actions = if grant.not_action {
        format!("any action except {}", grant.actions.join(", "))
    } else {
        grant.actions.join(", ")
    };
    let resources = if grant.resources.is_empty() {
        ctx.resource_arn
            .clone()
            .unwrap_or_else(|| "this resource".to_string())
    } else if grant.not_resource {
        format!("any resource except {}", grant.resources.join(", "))
    } else {
        grant.resources.join(", ")
    };
    let mut text = format!(
        "{}: {} can {} on {}",
        grant.exposure.label(),
        grant.principal.describe(),
        actions,
        resources
    );
    if !grant.restrictions.is_empty() {
        let groups: Vec<String> = grant
            .restrictions
            .iter()
            .map(|g| {
                g.iter()
                    .map(Restriction::describe)
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect();
        text.push_str(&format!(", only when {}", groups.join(" and ")));
    }
    text.push_str(&format!(" ({})", statement.label()));
    text
}
