//! `Kili::from_env`: `KILI_API_KEY`, `KILI_API_ENDPOINT`, `KILI_VERIFY`. One test in its own
//! binary, since it changes the process environment.

mod client_support;

use client_support::tls::TlsFront;
use client_support::tls_support::data;
use client_support::*;
use kili::{Error, Kili, ProjectQuery};

fn set(name: &str, value: Option<&str>) {
    // SAFETY: this binary's only test runs on one thread and nothing else reads the
    // environment concurrently while it changes.
    unsafe {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

#[test]
fn from_env_reads_key_endpoint_and_verify() {
    let server = server();
    set("KILI_VERIFY", None);
    set("KILI_API_ENDPOINT", None);

    set("KILI_API_KEY", None);
    assert!(matches!(Kili::from_env(), Err(Error::InvalidInput { .. })));
    set("KILI_API_KEY", Some(""));
    assert!(matches!(Kili::from_env(), Err(Error::InvalidInput { .. })));

    set("KILI_API_KEY", Some(KEY));
    assert_eq!(Kili::from_env().unwrap().endpoint(), kili::DEFAULT_ENDPOINT);

    set("KILI_API_ENDPOINT", Some(&server.endpoint()));
    let kili = Kili::from_env().unwrap();
    assert_eq!(kili.api_key(), KEY);
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);

    let front = TlsFront::start(server.addr());
    set("KILI_API_ENDPOINT", Some(&front.endpoint()));
    for verify in [None, Some("true"), Some("1")] {
        set("KILI_VERIFY", verify);
        let kili = Kili::from_env().unwrap();
        assert!(
            kili.count_projects(&ProjectQuery::new()).is_err(),
            "{verify:?}: the test CA is unknown"
        );
    }
    for verify in ["false", "0", "no"] {
        set("KILI_VERIFY", Some(verify));
        let kili = Kili::from_env().unwrap();
        assert_eq!(
            kili.count_projects(&ProjectQuery::new()).unwrap(),
            0,
            "{verify}"
        );
    }
    set("KILI_VERIFY", Some(data("ca.pem").to_str().unwrap()));
    assert_eq!(
        Kili::from_env()
            .unwrap()
            .count_projects(&ProjectQuery::new())
            .unwrap(),
        0
    );

    set("KILI_VERIFY", Some("/nonexistent/bundle.pem"));
    assert!(matches!(Kili::from_env(), Err(Error::InvalidInput { .. })));
}
