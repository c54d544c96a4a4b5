//! Helpers for the store's tests (a store with one user and one project), and the tests that
//! span several writes.

use std::collections::BTreeSet;

use super::*;

/// Makes a store with one user and one project.
pub(crate) fn setup() -> (ServerState, UserRec, ProjectRec) {
    let s = ServerState::new();
    let u = s.ensure_user("k1", "a@b.c").unwrap();
    let p = s.create_project(&u.id, project(InputType::Image)).unwrap();
    (s, u, p)
}

/// Makes a project titled `t`, of this input type.
pub(crate) fn project(input_type: InputType) -> NewProject {
    NewProject {
        title: "t".into(),
        description: String::new(),
        input_type,
        json_interface: "{}".into(),
        compliance_tags: vec![],
    }
}

/// Makes an asset to append, with this client id if any.
pub(crate) fn asset(id: Option<&str>) -> NewAsset {
    NewAsset {
        id: id.map(str::to_owned),
        content: "c".into(),
        external_id: None,
        json_content: String::new(),
        json_metadata: "{}".into(),
        is_honeypot: false,
        status: None,
    }
}

#[test]
fn client_asset_ids_make_appends_idempotent() {
    let (s, u, p) = setup();
    let first = s
        .append_assets(&u.id, &p.id, vec![asset(Some("a1")), asset(None)])
        .unwrap();
    let again = s
        .append_assets(&u.id, &p.id, vec![asset(Some("a1"))])
        .unwrap();
    assert_eq!(first[0].id, "a1");
    assert_eq!(again[0].created_at, first[0].created_at);
    assert_eq!(s.asset_count(), 2);
}

#[test]
fn other_users_cannot_write() {
    let (s, _u, p) = setup();
    let other = s.ensure_user("k2", "x@y.z").unwrap();
    let err = s
        .append_assets(&other.id, &p.id, vec![asset(None)])
        .unwrap_err();
    assert_eq!(err.code, "NO_ACCESS_RIGHTS");
    assert!(s.delete_project(&other.id, &p.id).is_err());
    assert_eq!(s.project_count(), 1);
}

#[test]
fn deleting_a_project_empties_every_index() {
    let (s, u, p) = setup();
    let a = s.append_assets(&u.id, &p.id, vec![asset(None)]).unwrap();
    s.append_labels(
        &u.id,
        NewLabels::new(vec![labels::tests::label(
            &a[0].id,
            "{}",
            LabelType::Default,
        )]),
        &crate::settings::LabelSettings::DEFAULT,
    )
    .unwrap();
    s.delete_project(&u.id, &p.id).unwrap();
    let d = s.read();
    assert!(d.labels.is_empty() && d.assets.is_empty() && d.shuffled.is_empty());
    assert!(d.asset(&a[0].id).is_none());
    assert!(d.project_labels.get(&p.id).is_none_or(BTreeSet::is_empty));
}
