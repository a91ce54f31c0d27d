//! What a list of action patterns lets a caller do, in the access levels of the IAM service
//! authorization reference: list, read, write, permissions management, tagging.
//!
//! vigil does not ship the full per-service action catalogue; it reads the verb an action
//! starts with (`Get`, `Put`, `Delete`...) and, for patterns with wildcards, tests them
//! against a set of representative actions of the resource types vigil analyses. A pattern
//! that could match something vigil cannot place counts as every level (sound, never less).

use serde::Serialize;

use crate::glob::Glob;

/// Access levels a set of actions reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AccessSummary {
    /// `*`, `service:*` or `NotAction`: every action of the service(s).
    pub all: bool,
    pub list: bool,
    pub read: bool,
    pub write: bool,
    /// Changing who has access: policies, ACLs, grants, permissions.
    pub permissions: bool,
    pub tagging: bool,
}

impl AccessSummary {
    fn everything() -> Self {
        AccessSummary {
            all: true,
            list: true,
            read: true,
            write: true,
            permissions: true,
            tagging: true,
        }
    }

    fn merge(&mut self, other: AccessSummary) {
        self.all |= other.all;
        self.list |= other.list;
        self.read |= other.read;
        self.write |= other.write;
        self.permissions |= other.permissions;
        self.tagging |= other.tagging;
    }

    /// `read, write` style text.
    pub fn describe(&self) -> String {
        if self.all {
            return "all actions".into();
        }
        let mut parts = Vec::new();
        for (on, name) in [
            (self.list, "list"),
            (self.read, "read"),
            (self.write, "write"),
            (self.permissions, "permissions management"),
            (self.tagging, "tagging"),
        ] {
            if on {
                parts.push(name);
            }
        }
        parts.join(", ")
    }
}

#[derive(Clone, Copy)]
enum Level {
    List,
    Read,
    Write,
    Permissions,
    Tagging,
}

/// Permission-management actions that a verb alone would misfile.
const PERMISSION_ACTIONS: &[&str] = &[
    "putbucketpolicy",
    "deletebucketpolicy",
    "putbucketacl",
    "putobjectacl",
    "putobjectversionacl",
    "putbucketpublicaccessblock",
    "deletebucketpublicaccessblock",
    "putaccesspointpolicy",
    "putkeypolicy",
    "creategrant",
    "revokegrant",
    "retiregrant",
    "setqueueattributes",
    "addpermission",
    "removepermission",
    "settopicattributes",
    "putresourcepolicy",
    "deleteresourcepolicy",
    "setrepositorypolicy",
    "deleterepositorypolicy",
    "updateassumerolepolicy",
    "putrolepolicy",
    "attachrolepolicy",
    "deleterolepolicy",
    "detachrolepolicy",
    "putrolepermissionsboundary",
    "passrole",
    "updatefunctionurlconfig",
    "createfunctionurlconfig",
    "putbucketownershipcontrols",
    "validateresourcepolicy",
];

/// Representative actions tested against wildcard patterns.
const REPRESENTATIVE: &[&str] = &[
    "getobject",
    "getobjectacl",
    "getbucketpolicy",
    "listbucket",
    "listallmybuckets",
    "putobject",
    "deleteobject",
    "deletebucket",
    "putbucketpolicy",
    "putobjectacl",
    "putbuckettagging",
    "restoreobject",
    "abortmultipartupload",
    "decrypt",
    "encrypt",
    "reencryptfrom",
    "reencryptto",
    "generatedatakey",
    "generatedatakeywithoutplaintext",
    "describekey",
    "creategrant",
    "putkeypolicy",
    "schedulekeydeletion",
    "disablekey",
    "listgrants",
    "sendmessage",
    "receivemessage",
    "deletemessage",
    "purgequeue",
    "getqueueattributes",
    "setqueueattributes",
    "publish",
    "subscribe",
    "gettopicattributes",
    "settopicattributes",
    "addpermission",
    "removepermission",
    "invokefunction",
    "invokefunctionurl",
    "getfunction",
    "updatefunctioncode",
    "deletefunction",
    "assumerole",
    "assumerolewithwebidentity",
    "assumerolewithsaml",
    "tagsession",
    "setsourceidentity",
    "getsecretvalue",
    "putsecretvalue",
    "deletesecret",
    "describesecret",
    "putresourcepolicy",
    "rotatesecret",
    "batchgetimage",
    "getdownloadurlforlayer",
    "putimage",
    "initiatelayerupload",
    "uploadlayerpart",
    "completelayerupload",
    "batchdeleteimage",
    "setrepositorypolicy",
    "listimages",
    "describeimages",
    "tagresource",
    "untagresource",
];

fn level_of(name: &str) -> Vec<Level> {
    if PERMISSION_ACTIONS.contains(&name) {
        return vec![Level::Permissions];
    }
    if name.starts_with("tag") || name.starts_with("untag") {
        return vec![Level::Tagging];
    }
    if name.starts_with("list") {
        return vec![Level::List];
    }
    const READ: &[&str] = &[
        "get",
        "describe",
        "head",
        "receive",
        "decrypt",
        "batchget",
        "select",
        "query",
        "scan",
        "search",
        "lookup",
        "view",
        "download",
        "generatedatakey",
        "verify",
        "export",
    ];
    if READ.iter().any(|p| name.starts_with(p)) {
        return vec![Level::Read];
    }
    // Everything else changes something (Put, Create, Delete, Send, Publish, Invoke,
    // AssumeRole, Encrypt, Schedule...): write is the sound reading.
    vec![Level::Write]
}

/// Summarise the access of `patterns` (an `Action` element, or `NotAction` when `negated`).
pub fn summarize(patterns: &[String], negated: bool) -> AccessSummary {
    if negated {
        return AccessSummary::everything();
    }
    let mut summary = AccessSummary::default();
    for pattern in patterns {
        let name = pattern
            .rsplit(':')
            .next()
            .unwrap_or(pattern)
            .to_ascii_lowercase();
        if pattern == "*" || name == "*" {
            return AccessSummary::everything();
        }
        let glob = Glob::new(&name, true);
        let levels: Vec<Level> = if glob.is_literal() {
            level_of(&name)
        } else {
            let hits: Vec<Level> = REPRESENTATIVE
                .iter()
                .filter(|a| glob.matches(a))
                .flat_map(|a| level_of(a))
                .collect();
            let prefix = glob.literal_prefix();
            if prefix.is_empty() || hits.is_empty() {
                // `*Object`, `Foo*`: could be anything the catalogue holds.
                let mut everything = AccessSummary::everything();
                everything.all = false;
                summary.merge(everything);
                continue;
            }
            let mut levels = hits;
            levels.extend(level_of(&prefix));
            levels
        };
        for level in levels {
            match level {
                Level::List => summary.list = true,
                Level::Read => summary.read = true,
                Level::Write => summary.write = true,
                Level::Permissions => summary.permissions = true,
                Level::Tagging => summary.tagging = true,
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(patterns: &[&str]) -> AccessSummary {
        summarize(
            &patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            false,
        )
    }

    #[test]
    fn verbs_and_wildcards() {
        let get = s(&["s3:GetObject"]);
        assert!(get.read && !get.write && !get.all);
        let put = s(&["s3:Put*"]);
        assert!(
            put.write && put.permissions,
            "s3:Put* includes PutBucketPolicy"
        );
        assert!(s(&["s3:*"]).all);
        assert!(s(&["kms:Decrypt"]).read);
        assert!(s(&["sqs:SendMessage"]).write);
        assert!(s(&["s3:PutBucketPolicy"]).permissions);
        assert!(summarize(&["s3:GetObject".to_string()], true).all);
    }
}
