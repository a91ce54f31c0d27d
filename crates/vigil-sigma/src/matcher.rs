//! One compiled rule value, tested against one JSON value of a field.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Datelike, Timelike};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
use vigil_event::FieldPath;

use crate::memo::Memo;
use crate::modifier::{NumOp, TimePart};
use crate::options::ListLookup;
use crate::pattern::StrMatch;
use crate::text::{as_number, with_text};

/// Receives the threat-intel entries that made a rule match (see [`crate::Explanation`]).
pub(crate) trait Collector {
    fn intel_hit(&mut self, field: &FieldPath, list: &str, entry: String);
}

/// The collector of the fast path: discards everything.
pub(crate) struct Discard;

impl Collector for Discard {
    fn intel_hit(&mut self, _: &FieldPath, _: &str, _: String) {}
}

/// A named threat-intel list and where to look it up.
#[derive(Clone)]
pub(crate) struct IntelList {
    /// Shared so that a per-event memo can keep it (see [`Memo::intel`]).
    pub name: Arc<str>,
    pub lists: Arc<dyn ListLookup>,
}

impl fmt::Debug for IntelList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IntelList({})", self.name)
    }
}

/// A network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address.
    pub(crate) fn parse(text: &str) -> Result<Cidr, String> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let bad = || format!("`{text}` is not an IPv4 or IPv6 network (cidr)");
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { network, prefix })
    }

    /// Whether `ip` is inside the network (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), 32, self.prefix)
                    == masked(u128::from(u32::from(ip)), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// The top `prefix` bits of a `width`-bit address.
fn masked(address: u128, width: u32, prefix: u8) -> u128 {
    let host_bits = width - u32::from(prefix).min(width);
    address.checked_shr(host_bits).unwrap_or(0)
}

/// One compiled value of a selection.
#[derive(Debug, Clone)]
pub(crate) enum ValueTest {
    /// `null`: a JSON null (an absent field is handled by the field check).
    Null,
    Str(StrMatch),
    Cidr(Cidr),
    Number(NumOp, f64),
    Time(TimePart, NumOp, f64),
    Intel(IntelList),
}

impl ValueTest {
    /// Whether one value of `field` satisfies this test. `value` lies in the event `memo`
    /// belongs to: its address keys what the memo remembers of it.
    pub(crate) fn matches<C: Collector>(
        &self,
        value: &Value,
        field: &FieldPath,
        out: &mut C,
        memo: &mut Memo<'_>,
    ) -> bool {
        match self {
            ValueTest::Null => value.is_null(),
            ValueTest::Str(m) => match with_text(value, |s| m.is_match_in(s, address(value), memo))
            {
                Some(hit) => hit,
                // Objects are searched leaf by leaf (`requestParameters|contains: x`); plain
                // equality never looks inside, which keeps index hints sound.
                None => !m.is_equality() && any_leaf(value, &mut |s| m.is_match(s)),
            },
            ValueTest::Cidr(cidr) => value
                .as_str()
                .and_then(|s| s.trim().parse::<IpAddr>().ok())
                .is_some_and(|ip| cidr.contains(ip)),
            ValueTest::Number(op, n) => as_number(value).is_some_and(|x| op.holds(x, *n)),
            ValueTest::Time(part, op, n) => {
                time_part(value, *part).is_some_and(|x| op.holds(x, *n))
            }
            ValueTest::Intel(intel) => {
                let lists = Arc::as_ptr(&intel.lists).cast::<()>() as usize;
                let entry = memo.intel(lists, &intel.name, address(value), || {
                    with_text(value, |s| intel.lists.lookup(&intel.name, s)).flatten()
                });
                match entry {
                    Some(entry) => {
                        out.intel_hit(field, &intel.name, entry.to_string());
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Whether this test accepts an absent field.
    pub(crate) fn accepts_absent(&self) -> bool {
        matches!(self, ValueTest::Null)
    }
}

/// The address of a value of the event, which keys it in a [`Memo`].
fn address(value: &Value) -> usize {
    std::ptr::from_ref(value) as usize
}

/// Whether any scalar inside `value` (walking objects and arrays) satisfies `pred`.
pub(crate) fn any_leaf(value: &Value, pred: &mut dyn FnMut(&str) -> bool) -> bool {
    if let Some(object) = value.as_object() {
        return object.iter().any(|(_, child)| any_leaf(child, pred));
    }
    if let Some(array) = value.as_array() {
        return array.iter().any(|child| any_leaf(child, pred));
    }
    with_text(value, |s| pred(s)).unwrap_or(false)
}

/// A part of an RFC 3339 timestamp held in a string.
fn time_part(value: &Value, part: TimePart) -> Option<f64> {
    let ms = vigil_event::time::parse_rfc3339_ms(value.as_str()?)?;
    let time = chrono::DateTime::from_timestamp_millis(ms)?;
    let n = match part {
        TimePart::Minute => time.minute(),
        TimePart::Hour => time.hour(),
        TimePart::Day => time.day(),
        TimePart::Week => time.iso_week().week(),
        TimePart::Month => time.month(),
        TimePart::Year => return Some(f64::from(time.year())),
    };
    Some(f64::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_contains_v4_and_v6() {
        let net = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let host = Cidr::parse("192.0.2.1").unwrap();
        assert!(host.contains("192.0.2.1".parse().unwrap()));
        assert!(!host.contains("192.0.2.2".parse().unwrap()));
    }

    #[test]
    fn cidr_rejects_non_networks() {
        assert!(Cidr::parse("AWS Internal").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0.0/x").is_err());
    }

    #[test]
    fn time_parts_read_timestamps() {
        let v: Value = sonic_rs::from_str(r#""2024-03-05T22:17:00Z""#).unwrap();
        assert_eq!(time_part(&v, TimePart::Hour), Some(22.0));
        assert_eq!(time_part(&v, TimePart::Minute), Some(17.0));
        assert_eq!(time_part(&v, TimePart::Month), Some(3.0));
        assert_eq!(time_part(&v, TimePart::Year), Some(2024.0));
        assert_eq!(time_part(&v, TimePart::Day), Some(5.0));
        assert_eq!(time_part(&v, TimePart::Week), Some(10.0));
    }
}
