use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Threat-intel lists that rules reach with the `intel` modifier
/// (`sourceIPAddress|intel: tor_exit_nodes`). Implemented by `vigil-intel`.
pub trait ListLookup: Send + Sync {
    /// Whether a list of that name is loaded.
    fn has_list(&self, name: &str) -> bool;
    /// The entry of `list` that `value` matches (an address, a CIDR, a domain...), if any.
    fn lookup(&self, list: &str, value: &str) -> Option<String>;
}

/// What the loader needs besides the rule text.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// Values of `expand` placeholders: `%trusted_accounts%` is the key `trusted_accounts`.
    pub placeholders: HashMap<String, Vec<String>>,
    /// Threat-intel lists for the `intel` modifier; a rule naming a list when this is `None`
    /// (or naming a list it does not have) is a load error.
    pub lists: Option<Arc<dyn ListLookup>>,
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("placeholders", &self.placeholders)
            .field("lists", &self.lists.as_ref().map(|_| "ListLookup"))
            .finish()
    }
}
