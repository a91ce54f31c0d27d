//! IP networks and a longest-prefix-match table over them.
//!
//! The table keeps one hash map per prefix length that occurs (a /32 map, a /24 map...), and a
//! lookup masks the address to each of those lengths, longest first. That is at most one hash
//! probe per distinct length in the list — a handful for real feeds — whatever the number of
//! entries, gives longest-prefix match for free (which the geo table needs), and needs no
//! dependency. A trie crate (`ip_network_table`) would do the same job with more code to trust.

use rustc_hash::FxHashMap as HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn width(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

/// An IP network (a single address is a /32 or /128), host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct IpPrefix {
    family: Family,
    bits: u128,
    len: u8,
}

impl IpPrefix {
    /// Parses `198.51.100.7`, `203.0.113.0/24`, `2001:db8::1` or `2001:db8::/32`. Host bits
    /// below the prefix (`10.0.0.1/8`) are cleared, as routers do.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (addr, len) = match text.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR"))?;
        let mut prefix = IpPrefix::host(addr);
        if let Some(len) = len {
            let width = prefix.family.width();
            prefix.len = len
                .parse::<u8>()
                .ok()
                .filter(|len| *len <= width)
                .ok_or_else(|| format!("`{text}` has an invalid prefix length (0..={width})"))?;
            prefix.bits &= mask(prefix.len, width);
        }
        Ok(prefix)
    }

    /// The network holding exactly `addr`. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`)
    /// is taken as the IPv4 address it carries.
    pub(crate) fn host(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(v4) => IpPrefix::v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpPrefix::v4(v4),
                None => IpPrefix::v6(v6),
            },
        }
    }

    fn v4(addr: Ipv4Addr) -> Self {
        IpPrefix {
            family: Family::V4,
            bits: u128::from(u32::from(addr)),
            len: 32,
        }
    }

    fn v6(addr: Ipv6Addr) -> Self {
        IpPrefix {
            family: Family::V6,
            bits: u128::from(addr),
            len: 128,
        }
    }
}

/// The mask keeping the top `len` bits of a `width`-bit address.
fn mask(len: u8, width: u8) -> u128 {
    let all = if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    if len >= width {
        return all;
    }
    all & !(all >> len)
}

/// Parses a value met in an event as one IP address (no CIDR).
pub(crate) fn parse_address(text: &str) -> Option<IpPrefix> {
    text.trim().parse::<IpAddr>().ok().map(IpPrefix::host)
}

/// Networks of one prefix length, keyed by their masked bits.
#[derive(Debug, Clone)]
struct LengthTable<V> {
    len: u8,
    networks: HashMap<u128, V>,
}

/// A map from IP networks to values, answering "the longest network holding this address".
#[derive(Debug, Clone)]
pub(crate) struct PrefixTable<V> {
    /// Per family, one table per prefix length present, longest first.
    v4: Vec<LengthTable<V>>,
    v6: Vec<LengthTable<V>>,
}

impl<V> Default for PrefixTable<V> {
    fn default() -> Self {
        PrefixTable {
            v4: Vec::new(),
            v6: Vec::new(),
        }
    }
}

impl<V> PrefixTable<V> {
    /// Adds `prefix`; when the same network is already there, the first value is kept and
    /// `false` returned.
    pub(crate) fn insert(&mut self, prefix: IpPrefix, value: V) -> bool {
        let tables = self.family_mut(prefix.family);
        let position = match tables.binary_search_by(|t| prefix.len.cmp(&t.len)) {
            Ok(found) => found,
            Err(at) => {
                let networks = HashMap::default();
                tables.insert(
                    at,
                    LengthTable {
                        len: prefix.len,
                        networks,
                    },
                );
                at
            }
        };
        let networks = &mut tables[position].networks;
        if networks.contains_key(&prefix.bits) {
            return false;
        }
        networks.insert(prefix.bits, value);
        true
    }

    /// The value of the longest network that contains `address` (a host prefix).
    pub(crate) fn longest_match(&self, address: IpPrefix) -> Option<&V> {
        let width = address.family.width();
        self.family(address.family)
            .iter()
            .find_map(|table| table.networks.get(&(address.bits & mask(table.len, width))))
    }

    /// Whether the table holds no network.
    pub(crate) fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    fn family(&self, family: Family) -> &[LengthTable<V>] {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    fn family_mut(&mut self, family: Family) -> &mut Vec<LengthTable<V>> {
        match family {
            Family::V4 => &mut self.v4,
            Family::V6 => &mut self.v6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(networks: &[&str]) -> PrefixTable<String> {
        let mut table = PrefixTable::default();
        for network in networks {
            table.insert(IpPrefix::parse(network).unwrap(), network.to_string());
        }
        table
    }

    fn find<'a>(table: &'a PrefixTable<String>, address: &str) -> Option<&'a str> {
        table
            .longest_match(parse_address(address).unwrap())
            .map(String::as_str)
    }

    #[test]
    fn network_and_broadcast_addresses_are_inside_the_cidr() {
        let t = table(&["203.0.113.0/24"]);
        assert_eq!(find(&t, "203.0.113.0"), Some("203.0.113.0/24"));
        assert_eq!(find(&t, "203.0.113.255"), Some("203.0.113.0/24"));
        assert_eq!(find(&t, "203.0.112.255"), None);
        assert_eq!(find(&t, "203.0.114.0"), None);
    }

    #[test]
    fn a_single_address_matches_only_itself() {
        let t = table(&["198.51.100.7", "192.0.2.1/32"]);
        assert_eq!(find(&t, "198.51.100.7"), Some("198.51.100.7"));
        assert_eq!(find(&t, "198.51.100.8"), None);
        assert_eq!(find(&t, "192.0.2.1"), Some("192.0.2.1/32"));
        assert_eq!(find(&t, "192.0.2.0"), None);
    }

    #[test]
    fn longest_prefix_wins() {
        let t = table(&["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "0.0.0.0/0"]);
        assert_eq!(find(&t, "10.1.2.3"), Some("10.1.2.0/24"));
        assert_eq!(find(&t, "10.1.3.3"), Some("10.1.0.0/16"));
        assert_eq!(find(&t, "10.9.9.9"), Some("10.0.0.0/8"));
        assert_eq!(find(&t, "11.0.0.1"), Some("0.0.0.0/0"));
    }

    #[test]
    fn ipv6_networks_and_mapped_ipv4() {
        let t = table(&["2001:db8::/32", "2001:db8:1::1", "192.0.2.0/24"]);
        assert_eq!(find(&t, "2001:db8:ffff::1"), Some("2001:db8::/32"));
        assert_eq!(find(&t, "2001:db8:1::1"), Some("2001:db8:1::1"));
        assert_eq!(find(&t, "2001:db9::1"), None);
        assert_eq!(find(&t, "::ffff:192.0.2.9"), Some("192.0.2.0/24"));
        // An IPv6 address whose low bits look like the IPv4 network is not inside it.
        assert_eq!(find(&t, "::c000:209"), None);
    }

    #[test]
    fn full_width_v6_prefix_and_zero_length() {
        let t = table(&["::/0"]);
        assert_eq!(find(&t, "fe80::1"), Some("::/0"));
        assert_eq!(find(&t, "1.2.3.4"), None);
        assert_eq!(mask(128, 128), u128::MAX);
        assert_eq!(mask(32, 32), u128::from(u32::MAX));
        assert_eq!(mask(0, 32), 0);
    }

    #[test]
    fn host_bits_are_cleared_and_duplicates_keep_the_first() {
        let mut t = PrefixTable::default();
        assert!(t.insert(IpPrefix::parse("10.0.0.1/8").unwrap(), "first"));
        assert!(!t.insert(IpPrefix::parse("10.0.0.0/8").unwrap(), "second"));
        assert_eq!(
            t.longest_match(parse_address("10.200.0.1").unwrap()),
            Some(&"first")
        );
    }

    #[test]
    fn malformed_networks_are_refused() {
        for bad in [
            "300.1.2.3",
            "10.0.0.0/33",
            "10.0.0.0/",
            "1.2.3.4/x",
            "2001:db8::/129",
            "abc",
        ] {
            assert!(IpPrefix::parse(bad).is_err(), "{bad} parsed");
        }
        assert!(parse_address("AWS Internal").is_none());
    }
}
