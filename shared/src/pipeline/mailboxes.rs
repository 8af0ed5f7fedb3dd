//! The receiving mailbox as a configured id: events never carry the raw recipient address.

use std::collections::BTreeMap;

/// Recipient address or `@domain` -> mailbox id.
#[derive(Debug, Clone, Default)]
pub struct Mailboxes {
    map: BTreeMap<String, String>,
}

impl Mailboxes {
    /// From a config table; keys are lowercased addresses (`sales@dealer.example.com`) or domains
    /// (`@dealer.example.com`).
    pub fn new(map: BTreeMap<String, String>) -> Self {
        Self { map: map.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect() }
    }

    /// The id of the first recipient with an exact address entry, else the first whose domain has one.
    pub fn id_for<'a>(&self, recipients: impl IntoIterator<Item = &'a str> + Clone) -> Option<String> {
        let exact = recipients.clone().into_iter().find_map(|r| self.map.get(&r.to_lowercase()));
        exact
            .or_else(|| {
                recipients.into_iter().find_map(|r| {
                    let domain = r.rsplit_once('@').map(|(_, d)| d.to_lowercase())?;
                    self.map.get(&format!("@{domain}"))
                })
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_beats_domain() {
        let m = Mailboxes::new(
            [
                ("Sales@Dealer.example.com".to_string(), "sales".to_string()),
                ("@dealer.example.com".into(), "dealer".into()),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(m.id_for(["x@other.example", "sales@dealer.example.com"]).as_deref(), Some("sales"));
        assert_eq!(m.id_for(["service@dealer.example.com"]).as_deref(), Some("dealer"));
        assert_eq!(m.id_for(["a@b.example"]), None);
    }
}
