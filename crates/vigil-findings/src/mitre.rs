//! MITRE ATT&CK from Sigma tags: `attack.t1078.004` names a (sub-)technique,
//! `attack.defense-evasion` a tactic.

use std::fmt;

/// An ATT&CK enterprise tactic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tactic {
    /// TA0043.
    Reconnaissance,
    /// TA0042.
    ResourceDevelopment,
    /// TA0001.
    InitialAccess,
    /// TA0002.
    Execution,
    /// TA0003.
    Persistence,
    /// TA0004.
    PrivilegeEscalation,
    /// TA0005.
    DefenseEvasion,
    /// TA0006.
    CredentialAccess,
    /// TA0007.
    Discovery,
    /// TA0008.
    LateralMovement,
    /// TA0009.
    Collection,
    /// TA0011.
    CommandAndControl,
    /// TA0010.
    Exfiltration,
    /// TA0040.
    Impact,
}

/// (tactic, ATT&CK id, display name, Sigma tag name).
const TACTICS: [(Tactic, &str, &str, &str); 14] = [
    (
        Tactic::Reconnaissance,
        "TA0043",
        "Reconnaissance",
        "reconnaissance",
    ),
    (
        Tactic::ResourceDevelopment,
        "TA0042",
        "Resource Development",
        "resource-development",
    ),
    (
        Tactic::InitialAccess,
        "TA0001",
        "Initial Access",
        "initial-access",
    ),
    (Tactic::Execution, "TA0002", "Execution", "execution"),
    (Tactic::Persistence, "TA0003", "Persistence", "persistence"),
    (
        Tactic::PrivilegeEscalation,
        "TA0004",
        "Privilege Escalation",
        "privilege-escalation",
    ),
    (
        Tactic::DefenseEvasion,
        "TA0005",
        "Defense Evasion",
        "defense-evasion",
    ),
    (
        Tactic::CredentialAccess,
        "TA0006",
        "Credential Access",
        "credential-access",
    ),
    (Tactic::Discovery, "TA0007", "Discovery", "discovery"),
    (
        Tactic::LateralMovement,
        "TA0008",
        "Lateral Movement",
        "lateral-movement",
    ),
    (Tactic::Collection, "TA0009", "Collection", "collection"),
    (
        Tactic::CommandAndControl,
        "TA0011",
        "Command and Control",
        "command-and-control",
    ),
    (
        Tactic::Exfiltration,
        "TA0010",
        "Exfiltration",
        "exfiltration",
    ),
    (Tactic::Impact, "TA0040", "Impact", "impact"),
];

impl Tactic {
    fn entry(self) -> (Tactic, &'static str, &'static str, &'static str) {
        // TACTICS lists the variants in declaration order.
        TACTICS[self as usize]
    }

    /// The ATT&CK id (`TA0005`).
    pub fn id(self) -> &'static str {
        self.entry().1
    }

    /// The display name (`Defense Evasion`).
    pub fn name(self) -> &'static str {
        self.entry().2
    }

    /// The Sigma tag name (`defense-evasion`, as in `attack.defense-evasion`).
    pub fn tag_name(self) -> &'static str {
        self.entry().3
    }

    /// The tactic a Sigma tag suffix names; `_` is accepted for `-` (older rules).
    pub fn from_tag_name(name: &str) -> Option<Tactic> {
        let name = name.to_ascii_lowercase().replace('_', "-");
        TACTICS
            .iter()
            .find(|(_, _, _, tag)| *tag == name)
            .map(|entry| entry.0)
    }
}

impl fmt::Display for Tactic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A technique named by a tag, with its sub-technique when the tag names one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TechniqueRef {
    /// The technique id (`T1078`).
    pub technique: String,
    /// The sub-technique id (`T1078.004`), when the tag has one.
    pub sub_technique: Option<String>,
}

impl TechniqueRef {
    /// Parses a tag suffix such as `t1078` or `t1078.004`.
    pub fn from_tag_name(name: &str) -> Option<TechniqueRef> {
        let rest = name.strip_prefix(['t', 'T'])?;
        let (main, sub) = match rest.split_once('.') {
            Some((main, sub)) => (main, Some(sub)),
            None => (rest, None),
        };
        if !is_digits(main, 4) || sub.is_some_and(|sub| !is_digits(sub, 3)) {
            return None;
        }
        Some(TechniqueRef {
            technique: format!("T{main}"),
            sub_technique: sub.map(|sub| format!("T{main}.{sub}")),
        })
    }

    /// The most specific id: the sub-technique's when there is one.
    pub fn most_specific(&self) -> &str {
        self.sub_technique.as_deref().unwrap_or(&self.technique)
    }
}

fn is_digits(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit())
}

/// The `attack.` tag suffixes among `tags`.
fn attack_names(tags: &[String]) -> impl Iterator<Item = &str> {
    tags.iter().filter_map(|tag| {
        tag.get(..7)
            .filter(|prefix| prefix.eq_ignore_ascii_case("attack."))
            .and_then(|_| tag.get(7..))
    })
}

/// The tactics the tags name, in tag order, without repeats.
pub fn tactics(tags: &[String]) -> Vec<Tactic> {
    let mut found = Vec::new();
    for tactic in attack_names(tags).filter_map(Tactic::from_tag_name) {
        if !found.contains(&tactic) {
            found.push(tactic);
        }
    }
    found
}

/// The techniques the tags name, in tag order, without repeats.
pub fn techniques(tags: &[String]) -> Vec<TechniqueRef> {
    let mut found = Vec::new();
    for technique in attack_names(tags).filter_map(TechniqueRef::from_tag_name) {
        if !found.contains(&technique) {
            found.push(technique);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|tag| tag.to_string()).collect()
    }

    #[test]
    fn technique_tags_become_ids() {
        let found = techniques(&tags(&[
            "attack.t1078.004",
            "attack.T1562",
            "attack.t1078.004",
        ]));
        let ids: Vec<&str> = found.iter().map(TechniqueRef::most_specific).collect();
        assert_eq!(ids, ["T1078.004", "T1562"]);
        assert_eq!(found[0].technique, "T1078");
    }

    #[test]
    fn malformed_and_foreign_tags_are_ignored() {
        let found = techniques(&tags(&[
            "attack.t10",
            "attack.t1078.4",
            "attack.g0016",
            "cve.2021.1234",
            "attack",
            "attack.tx078",
        ]));
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn tactic_tags_become_tactics() {
        let found = tactics(&tags(&[
            "attack.defense-evasion",
            "attack.command_and_control",
            "attack.t1078",
            "attack.Defense-Evasion",
        ]));
        assert_eq!(found, [Tactic::DefenseEvasion, Tactic::CommandAndControl]);
        assert_eq!(found[0].id(), "TA0005");
        assert_eq!(found[1].name(), "Command and Control");
    }

    #[test]
    fn the_tactic_table_is_in_declaration_order() {
        for (tactic, id, _, tag) in TACTICS {
            assert_eq!(tactic.id(), id);
            assert_eq!(Tactic::from_tag_name(tag), Some(tactic));
        }
    }
}
