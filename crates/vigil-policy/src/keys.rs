//! What vigil knows about condition keys: which ones an outside caller cannot forge (its
//! account, organisation, ARN, the network it comes from, the service acting for it, the
//! claims of its federated token), which value makes such a condition restrict (a fixed
//! value, not a wildcard or a policy variable, per S3's "meaning of public"), and which keys
//! anonymous callers never carry. Every other key, including keys vigil does not know, is
//! treated as chosen by the caller, which is what keeps the analysis sound.

use crate::condition::parse_cidr;

/// What an unforgeable key says about the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attribute {
    /// An account id (`aws:PrincipalAccount`, `aws:SourceAccount`, `kms:CallerAccount`...).
    Account,
    /// An organisation id (`aws:PrincipalOrgID`, `aws:SourceOrgID`).
    Organization,
    /// An organisation path `o-xxx/r-xxx/ou-xxx/` (`aws:PrincipalOrgPaths`).
    OrgPath,
    /// An ARN whose account field fixes the account (`aws:PrincipalArn`, `aws:SourceArn`).
    Arn,
    /// `aws:userid`: a unique principal id.
    UserId,
    /// A service principal name (`aws:PrincipalServiceName`).
    Service,
    /// `aws:SourceIp`.
    SourceIp,
    /// `aws:SourceVpc`, `aws:SourceVpce`, `aws:VpcSourceIp`, `aws:SourceVpcArn`.
    Network,
    /// A claim of a federated token (`token.actions.githubusercontent.com:sub`, `saml:aud`).
    FederatedClaim,
    /// `s3:x-amz-server-side-encryption-aws-kms-key-id`: only callers able to use that key.
    KmsKey,
}

/// Whether an authenticated outside caller always carries the key, or may go without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Always,
    Optional,
}

/// How vigil reads a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyClass {
    /// The caller cannot forge it.
    Attribute(Attribute, Presence),
    /// The caller chooses the value or leaves the key out (headers, parameters, its own
    /// principal's tags and names, TLS, time...). Unknown keys land here.
    CallerControlled,
    /// Restricts the path (`kms:ViaService`): through which service, not who.
    Path,
}

/// Keys that anonymous callers never carry.
const ABSENT_FOR_ANONYMOUS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:username",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:tokenissuetime",
    "aws:federatedprovider",
    "aws:sourceidentity",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "kms:calleraccount",
];

/// Keys that only exist for callers that are AWS principals (not services, not federated
/// callers before they hold a session).
pub(crate) const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "kms:calleraccount",
    "aws:username",
];

pub(crate) fn absent_for_anonymous(key: &str) -> bool {
    ABSENT_FOR_ANONYMOUS.contains(&key) || key.starts_with("aws:principaltag/")
}

/// Classify a key (already lower-cased).
pub(crate) fn classify(key: &str) -> KeyClass {
    use Attribute::*;
    use Presence::*;
    let attr = |a, p| KeyClass::Attribute(a, p);
    match key {
        "aws:principalaccount" | "kms:calleraccount" => attr(Account, Always),
        "aws:sourceaccount" | "aws:sourceowner" | "s3:dataaccesspointaccount" => {
            attr(Account, Optional)
        }
        "aws:principalorgid" | "aws:sourceorgid" => attr(Organization, Optional),
        "aws:principalorgpaths" | "aws:sourceorgpaths" => attr(OrgPath, Optional),
        "aws:principalarn" => attr(Arn, Always),
        "aws:sourcearn" | "s3:dataaccesspointarn" => attr(Arn, Optional),
        "aws:userid" => attr(UserId, Always),
        "aws:principalservicename" | "aws:principalservicenameslist" => attr(Service, Optional),
        "aws:sourceip" => attr(SourceIp, Optional),
        "aws:sourcevpc" | "aws:sourcevpce" | "aws:vpcsourceip" | "aws:sourcevpcarn" => {
            attr(Network, Optional)
        }
        "s3:x-amz-server-side-encryption-aws-kms-key-id" => attr(KmsKey, Optional),
        "kms:viaservice" => KeyClass::Path,
        _ if is_restricting_claim(key) => attr(FederatedClaim, Always),
        _ => KeyClass::CallerControlled,
    }
}

/// GitHub's OIDC provider: its `aud` is `sts.amazonaws.com` for every workflow in the world,
/// so only the subject and repository claims say who.
pub(crate) const GITHUB_OIDC: &str = "token.actions.githubusercontent.com";

/// Federated identity providers anyone can get a token from.
pub(crate) const PUBLIC_IDENTITY_PROVIDERS: &[&str] = &[
    GITHUB_OIDC,
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
    "cognito-identity.amazonaws.com",
    "appleid.apple.com",
    "gitlab.com",
    "app.terraform.io",
];

/// `provider:claim` keys that name who holds the token.
fn is_restricting_claim(key: &str) -> bool {
    let Some((provider, claim)) = key.rsplit_once(':') else {
        return false;
    };
    if provider == "saml" {
        return matches!(
            claim,
            "aud" | "sub" | "iss" | "namequalifier" | "edupersonprincipalname"
        );
    }
    if !provider.contains('.') {
        return false;
    }
    if provider == GITHUB_OIDC {
        return matches!(
            claim,
            "sub"
                | "repository"
                | "repository_id"
                | "repository_owner"
                | "repository_owner_id"
                | "job_workflow_ref"
        );
    }
    matches!(
        claim,
        "sub" | "aud" | "oaud" | "app_id" | "id" | "user_id" | "azp"
    )
}

/// The provider a claim key belongs to (`token.actions.githubusercontent.com:sub` → the
/// host).
pub(crate) fn claim_provider(key: &str) -> Option<&str> {
    key.rsplit_once(':').map(|(p, _)| p)
}

fn has_wildcard(value: &str) -> bool {
    value.contains('*') || value.contains('?') || value.contains("${")
}

/// Does `value` pin the attribute down to a fixed set of callers (S3: "fixed values, values
/// that don't contain a wildcard or a policy variable")?
pub(crate) fn is_fixed(attribute: Attribute, key: &str, value: &str) -> bool {
    match attribute {
        Attribute::Account => value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()),
        Attribute::Organization | Attribute::Service | Attribute::Network | Attribute::KmsKey => {
            !value.is_empty() && !has_wildcard(value)
        }
        Attribute::OrgPath => value
            .split('/')
            .next()
            .is_some_and(|org| org.starts_with("o-") && !has_wildcard(org)),
        Attribute::Arn => {
            !value.contains("${") && (!has_wildcard(value) || arn_account_literal(value).is_some())
        }
        // S3: `aws:userid` is fixed outside the pattern "AROLEID:*" with a fixed role id.
        Attribute::UserId => match value.split_once(':') {
            Some((id, _)) => !id.is_empty() && !has_wildcard(id),
            None => !value.is_empty() && !has_wildcard(value),
        },
        Attribute::SourceIp => parse_cidr(value).is_some_and(|net| match net {
            ipnet::IpNet::V4(n) => n.prefix_len() >= 8,
            ipnet::IpNet::V6(n) => n.prefix_len() >= 32,
        }),
        Attribute::FederatedClaim => {
            if key.eq_ignore_ascii_case(&format!("{GITHUB_OIDC}:sub")) {
                github_subject_owner(value).is_some()
            } else {
                !value.is_empty() && !has_wildcard(value)
            }
        }
    }
}

/// The literal, all-digit account field of an ARN.
pub(crate) fn arn_account_literal(arn: &str) -> Option<&str> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// `repo:OWNER/...` with a literal owner: the subject is pinned to one GitHub owner.
fn github_subject_owner(value: &str) -> Option<&str> {
    let rest = value.strip_prefix("repo:")?;
    let owner = rest.split(['/', ':']).next()?;
    (!owner.is_empty() && !has_wildcard(owner) && rest.len() > owner.len()).then_some(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_values_per_attribute() {
        assert!(is_fixed(Attribute::Account, "k", "111122223333"));
        assert!(!is_fixed(Attribute::Account, "k", "1111*"));
        assert!(is_fixed(
            Attribute::Arn,
            "k",
            "arn:aws:s3:us-west-2:123456789012:accesspoint/*"
        ));
        assert!(!is_fixed(Attribute::Arn, "k", "arn:aws:iam::*:role/Admin"));
        assert!(is_fixed(Attribute::Arn, "k", "arn:aws:s3:::my-bucket"));
        assert!(!is_fixed(Attribute::Network, "k", "vpc-*"));
        assert!(is_fixed(Attribute::SourceIp, "k", "10.0.0.0/8"));
        assert!(!is_fixed(Attribute::SourceIp, "k", "0.0.0.0/1"));
        assert!(!is_fixed(Attribute::SourceIp, "k", "2001:db8::/16"));
        assert!(is_fixed(Attribute::UserId, "k", "AROAEXAMPLEID:*"));
        assert!(!is_fixed(Attribute::UserId, "k", "AROA*"));
        assert!(is_fixed(
            Attribute::OrgPath,
            "k",
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"
        ));
        assert!(!is_fixed(Attribute::OrgPath, "k", "o-*/*"));
        let sub = "token.actions.githubusercontent.com:sub";
        assert!(is_fixed(Attribute::FederatedClaim, sub, "repo:octo-org/*"));
        assert!(!is_fixed(Attribute::FederatedClaim, sub, "repo:*"));
        assert!(!is_fixed(Attribute::FederatedClaim, sub, "*"));
    }

    #[test]
    fn classification_of_traps() {
        assert_eq!(classify("aws:username"), KeyClass::CallerControlled);
        assert_eq!(
            classify("aws:principaltag/team"),
            KeyClass::CallerControlled
        );
        assert_eq!(
            classify("token.actions.githubusercontent.com:aud"),
            KeyClass::CallerControlled
        );
        assert_eq!(classify("kms:viaservice"), KeyClass::Path);
        assert_eq!(classify("some:unknownkey"), KeyClass::CallerControlled);
        assert!(matches!(
            classify("aws:sourcevpce"),
            KeyClass::Attribute(Attribute::Network, _)
        ));
    }
}
