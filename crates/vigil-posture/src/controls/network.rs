//! Network reachability helpers: which ports a security group or NACL opens to the
//! internet, and whether peering routes stay within the peer VPC.

use std::collections::HashMap;

use ipnet::IpNet;

use crate::snapshot::{IpPermission, NetworkAcl, RouteTable, SecurityGroup, VpcPeeringConnection};

/// The internet as a source address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Internet {
    /// 0.0.0.0/0.
    V4,
    /// ::/0.
    V6,
}

impl Internet {
    pub fn label(self) -> &'static str {
        match self {
            Internet::V4 => "0.0.0.0/0",
            Internet::V6 => "::/0",
        }
    }
}

/// A CIDR covering every address (`0.0.0.0/0`, `::/0`). Unparseable text is not.
fn is_everything(cidr: &str) -> bool {
    cidr.trim()
        .parse::<IpNet>()
        .is_ok_and(|net| net.prefix_len() == 0)
}

/// The ports of `ports` a protocol/port range covers: all for `-1`, the range for TCP/UDP.
fn covered(protocol: &str, from: Option<i32>, to: Option<i32>, ports: &[u16]) -> Vec<u16> {
    let transport = matches!(
        protocol.to_ascii_lowercase().as_str(),
        "tcp" | "udp" | "6" | "17"
    );
    match (protocol, from, to) {
        ("-1", _, _) => ports.to_vec(),
        (_, None, None) if transport => ports.to_vec(),
        (_, from, to) if transport => {
            let (from, to) = (from.unwrap_or(0), to.unwrap_or(65535));
            // FromPort -1 / ToPort -1 on TCP means all ports in some API answers.
            let (from, to) = if from < 0 || to < 0 {
                (0, 65535)
            } else {
                (from, to)
            };
            ports
                .iter()
                .copied()
                .filter(|p| (from..=to).contains(&i32::from(*p)))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn admits(permission: &IpPermission, internet: Internet) -> bool {
    let sources = match internet {
        Internet::V4 => &permission.ip_ranges,
        Internet::V6 => &permission.ipv6_ranges,
    };
    sources.iter().any(|cidr| is_everything(cidr))
}

/// The ports of `ports` the group's ingress rules open to the whole internet.
pub(crate) fn admin_exposure(group: &SecurityGroup, ports: &[u16], internet: Internet) -> Vec<u16> {
    let mut open: Vec<u16> = group
        .ip_permissions
        .iter()
        .filter(|p| admits(p, internet))
        .flat_map(|p| covered(&p.ip_protocol, p.from_port, p.to_port, ports))
        .collect();
    open.sort_unstable();
    open.dedup();
    open
}

/// The admin ports a NACL lets in from the internet, with the deciding rule number. NACL
/// rules apply in rule-number order and the first match wins, so for an arbitrary internet
/// source only the entries covering all addresses matter: an earlier deny protects.
pub(crate) fn nacl_open_ports(acl: &NetworkAcl, ports: &[u16]) -> Vec<(u16, i32)> {
    let mut ingress: Vec<_> = acl
        .entries
        .iter()
        .filter(|e| !e.egress && matches!(e.protocol.as_str(), "-1" | "6" | "tcp"))
        .collect();
    ingress.sort_by_key(|e| e.rule_number);
    let mut open = Vec::new();
    for &port in ports {
        for family in [Internet::V4, Internet::V6] {
            let decider = ingress.iter().find(|e| {
                let cidr = match family {
                    Internet::V4 => e.cidr_block.as_deref(),
                    Internet::V6 => e.ipv6_cidr_block.as_deref(),
                };
                cidr.is_some_and(is_everything)
                    && !covered(&e.protocol, e.port_from, e.port_to, &[port]).is_empty()
            });
            if let Some(entry) = decider.filter(|e| e.rule_action == "allow") {
                open.push((port, entry.rule_number));
                break;
            }
        }
    }
    open
}

/// Routes through peering connections that reach beyond the peer VPC's CIDRs.
pub(crate) fn peering_route_problems(
    table: &RouteTable,
    peerings: &HashMap<&str, &VpcPeeringConnection>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for route in &table.routes {
        let Some(pcx) = route.vpc_peering_connection_id.as_deref() else {
            continue;
        };
        let destination = route
            .destination_cidr_block
            .as_deref()
            .or(route.destination_ipv6_cidr_block.as_deref())
            .unwrap_or("?");
        let Ok(net) = destination.parse::<IpNet>() else {
            problems.push(format!(
                "route to {destination} via {pcx} has an unreadable destination"
            ));
            continue;
        };
        if net.prefix_len() == 0 {
            problems.push(format!("default route {destination} via {pcx}"));
            continue;
        }
        let Some(peering) = peerings.get(pcx) else {
            problems.push(format!("route to {destination} via unknown peering {pcx}"));
            continue;
        };
        let peer = if peering.requester.vpc_id == table.vpc_id {
            &peering.accepter
        } else {
            &peering.requester
        };
        if matches!(net, IpNet::V6(_)) {
            continue; // peer IPv6 CIDRs are not in the snapshot; only default routes are judged.
        }
        let inside = peer
            .cidr_blocks
            .iter()
            .filter_map(|c| c.parse::<IpNet>().ok())
            .any(|peer_net| peer_net.contains(&net));
        if !inside {
            problems.push(format!(
                "{destination} via {pcx} is wider than peer VPC {} ({})",
                peer.vpc_id,
                peer.cidr_blocks.join(", ")
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::NaclEntry;

    fn entry(rule: i32, action: &str, cidr: &str, ports: Option<(i32, i32)>) -> NaclEntry {
        NaclEntry {
            rule_number: rule,
            protocol: "6".into(),
            rule_action: action.into(),
            cidr_block: Some(cidr.into()),
            port_from: ports.map(|p| p.0),
            port_to: ports.map(|p| p.1),
            ..Default::default()
        }
    }

    #[test]
    fn an_earlier_nacl_deny_protects_a_later_allow() {
        let acl = NetworkAcl {
            entries: vec![
                entry(200, "allow", "0.0.0.0/0", Some((0, 65535))),
                entry(100, "deny", "0.0.0.0/0", Some((22, 22))),
            ],
            ..Default::default()
        };
        assert_eq!(nacl_open_ports(&acl, &[22, 3389]), vec![(3389, 200)]);
    }

    #[test]
    fn port_ranges_and_all_protocols_cover_ports() {
        assert_eq!(covered("-1", None, None, &[22, 80]), vec![22, 80]);
        assert_eq!(covered("tcp", Some(20), Some(23), &[22, 80]), vec![22]);
        assert_eq!(
            covered("icmp", Some(-1), Some(-1), &[22]),
            Vec::<u16>::new()
        );
        assert!(is_everything("::/0") && is_everything("0.0.0.0/0"));
        assert!(!is_everything("10.0.0.0/8") && !is_everything("bogus"));
    }
}
