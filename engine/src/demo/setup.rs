//! The demo world: tenants, accounts, connectors, identities and the directory's accounts.

use chrono::{DateTime, Duration, DurationRound, Utc};
use dto::UserId;
use enums::ConnectorStatus;
use rand::{rngs::StdRng, Rng};
use serde_json::json;

use super::{
    ago, new_id, PasswordHashes, SeedAccount, Setup, ADMIN_EMAIL, CLOUD_CRM, CORPORATE_DIRECTORY,
    DEMO_ADMIN, DEMO_TENANT, DEMO_VIEWER, IDENTITIES, LEGACY_HR, OTHER_ADMIN, OTHER_ADMIN_EMAIL,
    OTHER_DIRECTORY, OTHER_TENANT, VIEWER_EMAIL,
};
use crate::{
    connector::NewAccount,
    store::{Mapping, NewConnector, NewIdentity, NewTenant, NewUser},
};

const FIRST_NAMES: [&str; 25] = [
    "Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Keiko", "Liam", "Maya", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Samir", "Tessa",
    "Umar", "Vera", "Wei", "Ximena", "Yusuf",
];
const LAST_NAMES: [&str; 25] = [
    "Anders", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova",
    "Jensen", "Kowalski", "Laurent", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Young", "Zhang",
];
pub(super) const DEPARTMENTS: [&str; 6] = [
    "Engineering",
    "Sales",
    "Finance",
    "People",
    "Support",
    "Marketing",
];
pub(super) const TITLES: [&str; 6] = [
    "Engineer",
    "Account Executive",
    "Analyst",
    "HR Partner",
    "Support Specialist",
    "Manager",
];

/// Identities of Demo Corp whose Corporate Directory account drifts, by identity index. The first run finds
/// them all; the demo's admin then remediates some (see `super::reconcile`), and a dry run finds the rest.
pub(super) mod drift {
    /// No account: `missing` (the last one created by a remediation).
    pub const MISSING: [usize; 4] = [45, 46, 47, 48];
    /// Account attributes differ: `mismatch` (the first one's updated by a remediation).
    pub const MISMATCH: [usize; 3] = [5, 10, 15];
    /// Account created in the target after the first run, with nothing linking it: `unlinked`.
    pub const UNLINKED: [usize; 2] = [36, 37];
    /// Account exists, but xavyo had no link to it: the first run links it (`unlinked`, resolved).
    pub const UNLINKED_FIXED: usize = 35;
    /// Linked account deleted in the target: `deleted` (the second one ignored).
    pub const DELETED: [usize; 2] = [40, 41];
    /// A second account claims the identity's email: `collision`.
    pub const COLLISION: [usize; 2] = [30, 31];
    /// Accounts no identity owns: `orphan` (the first one ignored: a service account).
    pub const ORPHANS: [&str; 3] = ["svc.backup", "svc.reporting", "temp.contractor01"];
}

struct Person {
    id: UserId,
    uid: String,
    email: String,
    display_name: String,
    attributes: serde_json::Value,
}

fn person(rng: &mut StdRng, index: usize, domain: &str) -> Person {
    let first = FIRST_NAMES[index % FIRST_NAMES.len()];
    let last = LAST_NAMES[(index / LAST_NAMES.len() + index) % LAST_NAMES.len()];
    let uid = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
    let email = format!("{uid}@{domain}");
    let department = DEPARTMENTS[rng.gen_range(0..DEPARTMENTS.len())];
    let title = TITLES[rng.gen_range(0..TITLES.len())];
    let attributes = json!({
        "first_name": first,
        "last_name": last,
        "email": email,
        "department": department,
        "title": title,
        "employee_id": format!("E{:05}", 1000 + index),
    });
    Person {
        id: UserId(new_id(rng)),
        uid,
        email,
        display_name: format!("{first} {last}"),
        attributes,
    }
}

pub(super) fn setup(rng: &mut StdRng, now: DateTime<Utc>, hashes: &PasswordHashes) -> Setup {
    let founded = ago(now, 90 * 86_400);
    let tenants = vec![
        NewTenant {
            id: DEMO_TENANT,
            name: "Demo Corp".into(),
            created_at: founded,
        },
        NewTenant {
            id: OTHER_TENANT,
            name: "Other Corp".into(),
            created_at: founded,
        },
    ];
    let user = |id, tenant_id, email: &str, name: &str, hash: &str, role: &str| NewUser {
        id,
        tenant_id,
        email: email.into(),
        display_name: Some(name.into()),
        password_hash: hash.into(),
        roles: vec![role.into()],
        active: true,
        created_at: founded,
    };
    let users = vec![
        user(
            DEMO_ADMIN,
            DEMO_TENANT,
            ADMIN_EMAIL,
            "Demo Admin",
            &hashes.admin,
            "admin",
        ),
        user(
            DEMO_VIEWER,
            DEMO_TENANT,
            VIEWER_EMAIL,
            "Demo Viewer",
            &hashes.viewer,
            "user",
        ),
        user(
            OTHER_ADMIN,
            OTHER_TENANT,
            OTHER_ADMIN_EMAIL,
            "Other Admin",
            &hashes.other_admin,
            "admin",
        ),
    ];
    let connector = |id, tenant_id, name: &str, status, settings| NewConnector {
        id,
        tenant_id,
        name: name.into(),
        connector_type: "directory".into(),
        status,
        credentials_valid: true,
        settings,
        created_at: founded,
    };
    // All active at first: the demo's history disables Legacy HR and takes Cloud CRM offline as it goes.
    let connectors = vec![
        connector(
            CORPORATE_DIRECTORY,
            DEMO_TENANT,
            "Corporate Directory",
            ConnectorStatus::Active,
            json!({}),
        ),
        connector(
            LEGACY_HR,
            DEMO_TENANT,
            "Legacy HR",
            ConnectorStatus::Active,
            json!({}),
        ),
        connector(
            CLOUD_CRM,
            DEMO_TENANT,
            "Cloud CRM",
            ConnectorStatus::Active,
            json!({}),
        ),
        connector(
            OTHER_DIRECTORY,
            OTHER_TENANT,
            "Other Directory",
            ConnectorStatus::Active,
            json!({}),
        ),
    ];

    let demo_people: Vec<Person> = (0..IDENTITIES)
        .map(|i| person(rng, i, "demo.local"))
        .collect();
    let other_people: Vec<Person> = (0..5).map(|i| person(rng, i + 7, "other.local")).collect();
    let identity = |p: &Person, tenant_id| NewIdentity {
        id: p.id,
        tenant_id,
        email: p.email.clone(),
        display_name: p.display_name.clone(),
        attributes: p.attributes.clone(),
        active: true,
        created_at: founded,
    };
    let mut identities: Vec<NewIdentity> = demo_people
        .iter()
        .map(|p| identity(p, DEMO_TENANT))
        .collect();
    identities.extend(other_people.iter().map(|p| identity(p, OTHER_TENANT)));

    let account =
        |connector_id, uid: &str, owner: Option<UserId>, attributes: serde_json::Value| {
            SeedAccount {
                connector_id,
                account: NewAccount {
                    uid: uid.into(),
                    object_class: "user".into(),
                    owner,
                    attributes: attributes.as_object().cloned().unwrap_or_default(),
                },
            }
        };
    // Corporate Directory drifts from the identities in the known ways of `drift`. The engine links every
    // account to the identity it was made for, but for the drifting ones.
    let mut accounts = Vec::new();
    let mut late_accounts = Vec::new();
    let mut links = Vec::new();
    for (i, p) in demo_people.iter().enumerate() {
        if drift::MISSING.contains(&i) {
            continue;
        }
        if drift::DELETED.contains(&i) {
            links.push((DEMO_TENANT, CORPORATE_DIRECTORY, p.id, p.uid.clone()));
            continue;
        }
        let mut attributes = p.attributes.clone();
        if drift::MISMATCH.contains(&i) {
            attributes["department"] = json!("Unassigned");
            attributes["title"] = json!("Contractor");
        }
        if drift::UNLINKED.contains(&i) {
            late_accounts.push(account(CORPORATE_DIRECTORY, &p.uid, None, attributes));
            continue;
        }
        if i != drift::UNLINKED_FIXED {
            links.push((DEMO_TENANT, CORPORATE_DIRECTORY, p.id, p.uid.clone()));
        }
        accounts.push(account(CORPORATE_DIRECTORY, &p.uid, Some(p.id), attributes));
        if drift::COLLISION.contains(&i) {
            accounts.push(account(
                CORPORATE_DIRECTORY,
                &format!("{}2", p.uid),
                None,
                json!({ "email": p.email, "title": "Duplicate" }),
            ));
        }
    }
    for uid in drift::ORPHANS {
        accounts.push(account(
            CORPORATE_DIRECTORY,
            uid,
            None,
            json!({ "email": format!("{uid}@demo.local"), "title": "Service" }),
        ));
    }
    // The other systems hold an account per person, in step.
    for connector_id in [LEGACY_HR, CLOUD_CRM] {
        for p in &demo_people {
            links.push((DEMO_TENANT, connector_id, p.id, p.uid.clone()));
            accounts.push(account(
                connector_id,
                &p.uid,
                Some(p.id),
                p.attributes.clone(),
            ));
        }
    }
    for p in &other_people {
        links.push((OTHER_TENANT, OTHER_DIRECTORY, p.id, p.uid.clone()));
        accounts.push(account(
            OTHER_DIRECTORY,
            &p.uid,
            Some(p.id),
            p.attributes.clone(),
        ));
    }
    // Every connector maps the same attributes; email, then employee id, correlate.
    let mapping = |identity: &str, target: &str, correlation_priority| Mapping {
        identity_attribute: identity.into(),
        target_attribute: target.into(),
        correlation_priority,
    };
    let mappings = vec![
        mapping("email", "email", Some(0)),
        mapping("employee_id", "employee_id", Some(1)),
        mapping("first_name", "first_name", None),
        mapping("last_name", "last_name", None),
        mapping("department", "department", None),
        mapping("title", "title", None),
    ];
    // The schedules are saved through the API's path now (see `super::schedules`); the draw that gave the old
    // seeded schedule its id stays, so every later id and outcome of the seed is what it was.
    let _ = new_id(rng);

    Setup {
        tenants,
        users,
        connectors,
        identities,
        accounts,
        late_accounts,
        links,
        mappings,
    }
}

/// When the schedule last fired: a 02:00 at least eight hours ago, so everything that followed it is past.
pub(super) fn scheduled_run_start(now: DateTime<Utc>) -> DateTime<Utc> {
    last_2am(now - Duration::hours(8))
}

/// The latest 02:00 UTC at or before `now`.
pub(super) fn last_2am(now: DateTime<Utc>) -> DateTime<Utc> {
    let midnight = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    let today = midnight + Duration::hours(2);
    if today <= now {
        today
    } else {
        today - Duration::days(1)
    }
}
