//! Pagination edges, counted in requests: 0 rows, exactly 100, 101, `first` smaller than a
//! page, `skip` past the end, a window across pages, laziness and progress.

use std::sync::{Arc, Mutex};

use crate::support::*;
use kili::{AssetQuery, Kili};
use kili_local_server::LocalServer;

/// (first, skip) of each `assets` request since the mark.
fn pages(server: &LocalServer, m: &Mark) -> Vec<(u64, u64)> {
    requests_since(server, m)
        .iter()
        .filter(|r| root_field(r) == "assets")
        .map(|r| {
            (
                r.variables["first"].as_u64().unwrap(),
                r.variables["skip"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn read(kili: &Kili, q: AssetQuery) -> Vec<String> {
    kili.assets(&q.fields(["id"]))
        .unwrap()
        .map(|a| a.unwrap().id().to_owned())
        .collect()
}

#[test]
fn zero_rows_is_one_request() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_assets(&kili, 0);
    let m = mark(&server);
    assert!(read(&kili, AssetQuery::new(&project)).is_empty());
    assert_eq!(pages(&server, &m), [(100, 0)]);
}

#[test]
fn exactly_100_then_101() {
    let server = server();
    let kili = client(&server);
    let (project, ids) = project_with_assets(&kili, 100);
    let m = mark(&server);
    assert_eq!(read(&kili, AssetQuery::new(&project)), ids);
    assert_eq!(
        pages(&server, &m),
        [(100, 0), (100, 100)],
        "a full page needs one more to see the end"
    );

    kili.append_many_to_dataset(&kili::NewAssets::new(&project, ["https://x/extra"]))
        .unwrap();
    let m = mark(&server);
    assert_eq!(read(&kili, AssetQuery::new(&project)).len(), 101);
    assert_eq!(
        pages(&server, &m),
        [(100, 0), (100, 100)],
        "the short page ends it"
    );
}

#[test]
fn first_and_skip_are_exact() {
    let server = server();
    let kili = client(&server);
    let (project, ids) = project_with_assets(&kili, 250);

    let m = mark(&server);
    assert_eq!(read(&kili, AssetQuery::new(&project).first(5)), ids[..5]);
    assert_eq!(
        pages(&server, &m),
        [(5, 0)],
        "first smaller than a page: one request, never more rows"
    );

    let m = mark(&server);
    assert_eq!(
        read(&kili, AssetQuery::new(&project).first(150).skip(20)),
        ids[20..170]
    );
    assert_eq!(pages(&server, &m), [(100, 20), (50, 120)]);

    let m = mark(&server);
    assert!(read(&kili, AssetQuery::new(&project).skip(300)).is_empty());
    assert_eq!(pages(&server, &m), [(100, 300)], "skip past the end");

    let m = mark(&server);
    assert_eq!(read(&kili, AssetQuery::new(&project).skip(240)), ids[240..]);
    assert_eq!(pages(&server, &m), [(100, 240)]);

    let m = mark(&server);
    assert!(read(&kili, AssetQuery::new(&project).first(0)).is_empty());
    assert!(pages(&server, &m).is_empty(), "first(0) sends nothing");

    let m = mark(&server);
    assert_eq!(read(&kili, AssetQuery::new(&project)).len(), 250);
    assert_eq!(pages(&server, &m), [(100, 0), (100, 100), (100, 200)]);
}

#[test]
fn pages_are_fetched_lazily() {
    let server = server();
    let kili = client(&server);
    let (project, ids) = project_with_assets(&kili, 250);
    let m = mark(&server);
    let mut it = kili
        .assets(&AssetQuery::new(&project).fields(["id"]))
        .unwrap();
    assert!(
        pages(&server, &m).is_empty(),
        "nothing sent before the first next()"
    );
    let first: Vec<String> = it
        .by_ref()
        .take(101)
        .map(|a| a.unwrap().id().to_owned())
        .collect();
    assert_eq!(first, ids[..101]);
    assert_eq!(
        pages(&server, &m),
        [(100, 0), (100, 100)],
        "one page held at a time"
    );
    drop(it);
}

#[test]
fn progress_counts_first_then_reports_each_page() {
    let server = server();
    let kili = client(&server);
    let (project, _) = project_with_assets(&kili, 230);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let m = mark(&server);
    let n = kili
        .assets(&AssetQuery::new(&project).skip(10))
        .unwrap()
        .progress(move |d, t| seen2.lock().unwrap().push((d, t)))
        .count();
    assert_eq!(n, 220);
    assert_eq!(
        calls_since(&server, &m),
        ["countAssets", "assets", "assets", "assets"]
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [(0, 220), (100, 220), (200, 220), (220, 220)]
    );
}

#[test]
fn errors_end_the_iteration() {
    let server = server();
    let kili = builder(KEY, server.endpoint())
        .max_retries(0)
        .build()
        .unwrap();
    let (project, _) = project_with_assets(&kili, 150);
    let mut it = kili.assets(&AssetQuery::new(&project)).unwrap();
    assert!(it.next().unwrap().is_ok());
    for _ in 0..99 {
        it.next().unwrap().unwrap();
    }
    server.fail_next_requests(1, 503, None);
    let e = it.next().unwrap().unwrap_err();
    assert!(matches!(e, kili::Error::Http { status: 503, .. }), "{e:?}");
    assert!(it.next().is_none(), "fused after an error");
}
