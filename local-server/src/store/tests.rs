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

#[test]
fn created_at_windows_read_from_the_index_match_a_scan() {
    use crate::settings::LabelSettings;
    use std::time::Duration;
    let (s, u, p) = setup();
    let a = s.append_assets(&u.id, &p.id, vec![asset(None)]).unwrap();
    let row = || labels::tests::label(&a[0].id, "{}", LabelType::Prediction);
    let far = crate::time::now_ms() + 86_400_000;
    // In order, then a server whose hour-long resolution stamps labels before the latest: out
    // of order (a restart on the same state with other settings).
    for settings in [
        LabelSettings::DEFAULT,
        LabelSettings::new(Duration::from_secs(3600), false, far - 84_600_000).unwrap(),
    ] {
        for _ in 0..5 {
            s.append_labels(&u.id, NewLabels::new(vec![row(), row()]), &settings)
                .unwrap();
        }
        let d = s.read();
        let times: Vec<i64> = d.labels.values().map(|l| l.created_at).collect();
        let (lo, hi) = (times.iter().min().copied().unwrap(), far);
        for shuffled in [false, true] {
            for span in [(lo, hi), (lo + 1, hi), (i64::MIN, lo), (hi, lo)] {
                let scan: Vec<_> = d
                    .label_source(Some(&p.id), None, shuffled, None)
                    .filter(|(_, l)| (span.0..=span.1).contains(&l.created_at))
                    .collect();
                let window: Vec<_> = d.label_window(&p.id, span, shuffled, None).collect();
                let ids = |v: &[(paging::Position, &std::sync::Arc<LabelRec>)]| {
                    v.iter()
                        .map(|(p, l)| (*p, l.id.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(ids(&window), ids(&scan), "{span:?} {shuffled}");
                // Resuming after any position gives the rest of the same sequence.
                for (i, (pos, _)) in scan.iter().enumerate() {
                    let rest: Vec<_> = d.label_window(&p.id, span, shuffled, Some(*pos)).collect();
                    assert_eq!(ids(&rest), ids(&scan[i + 1..]), "after {pos:?}");
                }
            }
        }
    }
    assert!(!s.read().created.in_order(&p.id));
}
