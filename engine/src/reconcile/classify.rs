//! The pure part of a run: given a batch of accounts and what the engine knows about them (links, the linked
//! identities, correlation matches), what differs. No I/O here; the runner gathers the inputs.

use std::collections::{HashMap, HashSet};

use dto::UserId;
use enums::DiscrepancyType;
use serde_json::Value;

use crate::{
    connector::{Account, Attributes},
    store::{Found, Identity, Link, Mapping},
};

/// An attribute value as correlation compares it: strings as they are, numbers and booleans as text; none for
/// null, lists and objects (they do not correlate).
pub fn correlation_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The account's value of a target attribute (null when absent).
pub fn account_value(attributes: &Attributes, target_attribute: &str) -> Value {
    attributes
        .get(target_attribute)
        .cloned()
        .unwrap_or(Value::Null)
}

/// The mapped attributes whose values differ: `(target attribute, xavyo's value, the target's value)`.
pub fn compare(
    identity: &Identity,
    account: &Account,
    mappings: &[Mapping],
) -> Vec<(String, Value, Value)> {
    mappings
        .iter()
        .filter_map(|m| {
            let expected = identity.value(&m.identity_attribute);
            let actual = account_value(&account.attributes, &m.target_attribute);
            (expected != actual).then(|| (m.target_attribute.clone(), expected, actual))
        })
        .collect()
}

/// What correlating an unlinked account came to, from the identities that matched it on the first
/// correlation attribute that matched anyone: none → orphan; one not yet linked on the connector →
/// unlinked; one already linked (the account duplicates it) or several → collision.
pub fn correlation_outcome(uid: &str, candidates: &[UserId], linked: &HashSet<UserId>) -> Found {
    let account = |discrepancy_type| Found {
        discrepancy_type,
        identity_id: None,
        external_uid: Some(uid.to_owned()),
        attribute_name: None,
        expected: None,
        actual: None,
        candidates: Vec::new(),
    };
    match candidates {
        [] => account(DiscrepancyType::Orphan),
        [one] if !linked.contains(one) => Found {
            identity_id: Some(*one),
            ..account(DiscrepancyType::Unlinked)
        },
        several => Found {
            candidates: several.to_vec(),
            ..account(DiscrepancyType::Collision)
        },
    }
}

/// A link whose account is gone.
pub fn deleted(link: &Link) -> Found {
    Found {
        discrepancy_type: DiscrepancyType::Deleted,
        identity_id: Some(link.identity_id),
        external_uid: Some(link.external_uid.clone()),
        attribute_name: None,
        expected: None,
        actual: None,
        candidates: Vec::new(),
    }
}

/// An in-scope identity with no account.
pub fn missing(identity: UserId) -> Found {
    Found {
        discrepancy_type: DiscrepancyType::Missing,
        identity_id: Some(identity),
        external_uid: None,
        attribute_name: None,
        expected: None,
        actual: None,
        candidates: Vec::new(),
    }
}

/// What the runner knows about one batch of accounts.
#[derive(Debug)]
pub struct Batch<'a> {
    /// The accounts, in uid order.
    pub accounts: &'a [Account],
    /// The links whose uid falls in the batch's range (full runs: every link up to the last account, so that
    /// links of vanished accounts show; delta runs: the links of these accounts).
    pub links: &'a [Link],
    /// The linked identities, by id.
    pub identities: &'a HashMap<UserId, Identity>,
    /// For each unlinked account's uid, the identities it matched (see [`correlation_outcome`]).
    pub matches: &'a HashMap<String, Vec<UserId>>,
    /// Which of the matched identities are linked on the connector already.
    pub linked: &'a HashSet<UserId>,
    /// The connector's mapping.
    pub mappings: &'a [Mapping],
}

/// Classifies a batch: each linked account's differing attributes (one mismatch each), each unlinked
/// account's correlation, and each link in range whose account is not in the batch (deleted). Linked
/// accounts of inactive identities are out of scope.
pub fn classify(batch: &Batch<'_>) -> Vec<Found> {
    let by_uid: HashMap<&str, &Link> = batch
        .links
        .iter()
        .map(|l| (l.external_uid.as_str(), l))
        .collect();
    let mut found = Vec::new();
    for account in batch.accounts {
        match by_uid.get(account.uid.as_str()) {
            Some(link) => {
                let Some(identity) = batch.identities.get(&link.identity_id) else {
                    continue;
                };
                if !identity.active {
                    continue;
                }
                for (attribute, expected, actual) in compare(identity, account, batch.mappings) {
                    found.push(Found {
                        discrepancy_type: DiscrepancyType::Mismatch,
                        identity_id: Some(identity.id),
                        external_uid: Some(account.uid.clone()),
                        attribute_name: Some(attribute),
                        expected: Some(expected),
                        actual: Some(actual),
                        candidates: Vec::new(),
                    });
                }
            }
            None => {
                let candidates = batch
                    .matches
                    .get(&account.uid)
                    .map_or(&[][..], Vec::as_slice);
                found.push(correlation_outcome(&account.uid, candidates, batch.linked));
            }
        }
    }
    let present: HashSet<&str> = batch.accounts.iter().map(|a| a.uid.as_str()).collect();
    found.extend(
        batch
            .links
            .iter()
            .filter(|l| !present.contains(l.external_uid.as_str()))
            .map(deleted),
    );
    found
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn identity(n: u128, email: &str, dept: &str, active: bool) -> Identity {
        Identity {
            id: user(n),
            email: email.into(),
            display_name: format!("Person {n}"),
            attributes: json!({"department": dept})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            active,
            updated_at: Utc::now(),
        }
    }

    fn account(uid: &str, attributes: Value) -> Account {
        Account {
            uid: uid.into(),
            object_class: "user".into(),
            owner: None,
            attributes: attributes.as_object().cloned().unwrap_or_default(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn mappings() -> Vec<Mapping> {
        vec![
            Mapping {
                identity_attribute: "email".into(),
                target_attribute: "mail".into(),
                correlation_priority: Some(0),
            },
            Mapping {
                identity_attribute: "department".into(),
                target_attribute: "department".into(),
                correlation_priority: None,
            },
        ]
    }

    fn link(n: u128, uid: &str) -> Link {
        Link {
            identity_id: user(n),
            external_uid: uid.into(),
        }
    }

    #[test]
    fn every_discrepancy_type_is_found_where_it_belongs() {
        let identities: HashMap<_, _> = [
            identity(1, "ada@x.test", "Eng", true),
            identity(2, "bob@x.test", "Ops", true),
            identity(9, "old@x.test", "Eng", false),
        ]
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
        let accounts = [
            // Linked, in step.
            account("ada", json!({"mail": "ada@x.test", "department": "Eng"})),
            // Linked, two attributes differ: two mismatches.
            account(
                "bob",
                json!({"mail": "robert@x.test", "department": "Sales"}),
            ),
            // Not linked, matched one identity not linked yet: unlinked.
            account("cy", json!({"mail": "cy@x.test"})),
            // Not linked, matched an identity linked already: collision (a duplicate).
            account("cy2", json!({"mail": "ada@x.test"})),
            // Not linked, matched two: collision.
            account("dee", json!({"mail": "shared@x.test"})),
            // Not linked, matched nobody: orphan.
            account("svc", json!({"mail": "svc@x.test"})),
            // Linked to an inactive identity: out of scope.
            account("zed", json!({"mail": "different@x.test"})),
        ];
        let links = [
            link(1, "ada"),
            link(2, "bob"),
            // Its account is gone: deleted.
            link(3, "carl"),
            link(9, "zed"),
        ];
        let matches: HashMap<String, Vec<UserId>> = [
            ("cy".to_owned(), vec![user(4)]),
            ("cy2".to_owned(), vec![user(1)]),
            ("dee".to_owned(), vec![user(5), user(6)]),
        ]
        .into_iter()
        .collect();
        let linked: HashSet<UserId> = [user(1)].into_iter().collect();
        let mappings = mappings();
        let found = classify(&Batch {
            accounts: &accounts,
            links: &links,
            identities: &identities,
            matches: &matches,
            linked: &linked,
            mappings: &mappings,
        });
        let summary: Vec<_> = found
            .iter()
            .map(|f| {
                (
                    f.discrepancy_type,
                    f.external_uid.as_deref().unwrap_or(""),
                    f.attribute_name.as_deref().unwrap_or(""),
                )
            })
            .collect();
        use DiscrepancyType::*;
        assert_eq!(
            summary,
            [
                (Mismatch, "bob", "mail"),
                (Mismatch, "bob", "department"),
                (Unlinked, "cy", ""),
                (Collision, "cy2", ""),
                (Collision, "dee", ""),
                (Orphan, "svc", ""),
                (Deleted, "carl", ""),
            ]
        );
        let bob_mail = &found[0];
        assert_eq!(bob_mail.identity_id, Some(user(2)));
        assert_eq!(
            (bob_mail.expected.clone(), bob_mail.actual.clone()),
            (Some(json!("bob@x.test")), Some(json!("robert@x.test")))
        );
        assert_eq!(found[2].identity_id, Some(user(4)));
        assert_eq!(found[3].candidates, [user(1)]);
        assert_eq!(found[4].candidates, [user(5), user(6)]);
        assert_eq!(found[6].identity_id, Some(user(3)));
        assert_eq!(missing(user(7)).discrepancy_type, Missing);
    }

    #[test]
    fn absent_and_null_are_the_same_value() {
        let ada = identity(1, "ada@x.test", "Eng", true);
        let mut no_dept = ada.clone();
        no_dept.attributes.clear();
        let acct = account("ada", json!({"mail": "ada@x.test", "department": null}));
        assert!(compare(&no_dept, &acct, &mappings()).is_empty());
        let diff = compare(&ada, &acct, &mappings());
        assert_eq!(diff, [("department".into(), json!("Eng"), Value::Null)]);
    }

    #[test]
    fn only_scalars_correlate() {
        assert_eq!(correlation_value(&json!("a")), Some("a".into()));
        assert_eq!(correlation_value(&json!(42)), Some("42".into()));
        assert_eq!(correlation_value(&json!("  ")), None);
        assert_eq!(correlation_value(&json!(["a"])), None);
        assert_eq!(correlation_value(&Value::Null), None);
    }
}
