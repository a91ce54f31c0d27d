//! The playbooks that ship with vigil (the repository's `playbooks/` directory), embedded.

use crate::action::Catalog;
use crate::playbook::{Playbook, PlaybookErrors};

/// The built-in playbooks: file name and YAML text.
pub const BUILTIN_PLAYBOOKS: &[(&str, &str)] = &[
    (
        "cloudtrail-logging-stopped.yml",
        include_str!("../../../playbooks/cloudtrail-logging-stopped.yml"),
    ),
    (
        "ec2-instance-compromise.yml",
        include_str!("../../../playbooks/ec2-instance-compromise.yml"),
    ),
    (
        "exposed-access-key.yml",
        include_str!("../../../playbooks/exposed-access-key.yml"),
    ),
    (
        "instance-malicious-ip.yml",
        include_str!("../../../playbooks/instance-malicious-ip.yml"),
    ),
    (
        "root-account-usage.yml",
        include_str!("../../../playbooks/root-account-usage.yml"),
    ),
    (
        "s3-bucket-public.yml",
        include_str!("../../../playbooks/s3-bucket-public.yml"),
    ),
    (
        "security-group-open-to-world.yml",
        include_str!("../../../playbooks/security-group-open-to-world.yml"),
    ),
];

/// Loads every built-in playbook against `catalog`; the errors of all that fail.
pub fn builtin_playbooks(catalog: &Catalog) -> Result<Vec<Playbook>, PlaybookErrors> {
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in BUILTIN_PLAYBOOKS {
        match Playbook::load(text, &format!("playbooks/{name}"), catalog) {
            Ok(playbook) => loaded.push(playbook),
            Err(PlaybookErrors(mut found)) => errors.append(&mut found),
        }
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(PlaybookErrors(errors))
    }
}
