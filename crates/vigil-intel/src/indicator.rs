//! What an entry of a list is, judged from its text alone.

use std::borrow::Cow;

use crate::prefix::IpPrefix;

/// The kind of an intel entry, which decides how it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndicatorKind {
    /// An IPv4/IPv6 address or CIDR: matches every address it contains.
    Network,
    /// A domain name: matches itself and its subdomains, case-insensitively.
    Domain,
    /// Anything else (a user agent, an access key id, a URL): case-insensitive exact match.
    Text,
}

/// A classified entry, ready to be indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Indicator {
    Network(IpPrefix),
    /// The domain, lower-cased, without a trailing dot or a leading `*.`.
    Domain(String),
    /// The text, case-folded.
    Text(String),
}

/// Classifies `text` (already trimmed and non-empty). Text that is made only of the characters
/// of addresses (digits, dots, colons, hex, `/`) but is not a valid one is refused, so a typo
/// in an IP list is reported instead of silently becoming a string that never matches.
pub(crate) fn classify(text: &str) -> Result<Indicator, String> {
    if looks_like_network(text) {
        return IpPrefix::parse(text).map(Indicator::Network);
    }
    if let Some(domain) = as_domain(text) {
        return Ok(Indicator::Domain(domain));
    }
    Ok(Indicator::Text(fold_case(text).into_owned()))
}

fn looks_like_network(text: &str) -> bool {
    let address_chars = text
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'));
    // Long hex strings without separators are hashes, not addresses.
    address_chars && text.bytes().any(|b| matches!(b, b'.' | b':')) && !is_all_hex_word(text)
}

fn is_all_hex_word(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The normalised domain if `text` is a host name with at least two labels and an alphabetic
/// top-level label (`pool.example`, `*.pool.example`, `Pool.Example.`).
pub(crate) fn as_domain(text: &str) -> Option<String> {
    let text = text.strip_prefix("*.").unwrap_or(text);
    let text = text.strip_suffix('.').unwrap_or(text);
    let labels: Vec<&str> = text.split('.').collect();
    let top = labels.last()?;
    let valid = labels.len() >= 2
        && labels.iter().all(|label| is_label(label))
        && top.bytes().all(|b| b.is_ascii_alphabetic());
    valid.then(|| text.to_ascii_lowercase())
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Case folding for exact matching; borrows when there is nothing to fold.
pub(crate) fn fold_case(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// The candidate domain suffixes of a host, longest first: `a.b.c` → `a.b.c`, `b.c`, `c`.
/// Only whole labels are cut, so `evilpool.example` never yields `pool.example`.
pub(crate) fn domain_suffixes(host: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(host), |rest| {
        rest.split_once('.').map(|(_, tail)| tail)
    })
}

/// The host part of a value met in an event: a bare host, or the host of a URL
/// (`https://Pool.Example:443/x` → `Pool.Example`), without a trailing dot.
pub(crate) fn host_of(value: &str) -> &str {
    let rest = value.split_once("://").map_or(value, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    host.strip_suffix('.').unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_classified_by_content() {
        assert!(matches!(
            classify("198.51.100.7"),
            Ok(Indicator::Network(_))
        ));
        assert!(matches!(
            classify("2001:db8::/32"),
            Ok(Indicator::Network(_))
        ));
        assert_eq!(
            classify("Pool.Example."),
            Ok(Indicator::Domain("pool.example".into()))
        );
        assert_eq!(
            classify("*.pool.example"),
            Ok(Indicator::Domain("pool.example".into()))
        );
        assert_eq!(
            classify("AKIAIOSFODNN7EXAMPLE"),
            Ok(Indicator::Text("akiaiosfodnn7example".into()))
        );
        assert_eq!(
            classify("TruffleHog/3.0 (x)"),
            Ok(Indicator::Text("trufflehog/3.0 (x)".into()))
        );
        assert_eq!(
            classify("deadbeefcafe"),
            Ok(Indicator::Text("deadbeefcafe".into()))
        );
    }

    #[test]
    fn broken_addresses_are_errors_not_strings() {
        assert!(classify("300.1.2.3").is_err());
        assert!(classify("10.0.0.0/40").is_err());
        assert!(classify("2001:db8:::1").is_err());
    }

    #[test]
    fn numeric_top_labels_are_not_domains() {
        assert_eq!(as_domain("example.123"), None);
        assert_eq!(as_domain("localhost"), None);
        assert_eq!(as_domain("bad label.example"), None);
    }

    #[test]
    fn suffixes_cut_whole_labels_only() {
        let all: Vec<&str> = domain_suffixes("a.evilpool.example").collect();
        assert_eq!(
            all,
            vec!["a.evilpool.example", "evilpool.example", "example"]
        );
    }

    #[test]
    fn hosts_are_taken_out_of_urls() {
        assert_eq!(
            host_of("https://user@Pool.Example:8443/path?q#f"),
            "Pool.Example"
        );
        assert_eq!(host_of("pool.example."), "pool.example");
        assert_eq!(host_of("pool.example"), "pool.example");
    }

    #[test]
    fn folding_borrows_when_already_lower() {
        assert!(matches!(fold_case("curl/8.0"), Cow::Borrowed(_)));
        assert_eq!(fold_case("ÄWS"), "äws");
    }
}
