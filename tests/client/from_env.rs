//! `Kili::from_env`: `KILI_API_KEY`, `KILI_API_ENDPOINT`, `KILI_VERIFY`.
//!
//! The environment belongs to the process, and this binary runs its tests on several threads:
//! rather than change its own environment under them, the test runs each case in a child
//! process (this test binary, filtered to this test) given the case's variables, and the child
//! makes the case's checks.

use std::process::Command;

use crate::support::*;
use kili::{Error, Kili, ProjectQuery};

/// Set in a child: the case it checks.
const CASE: &str = "KILI_TEST_FROM_ENV_CASE";
/// The variables `Kili::from_env` reads; a child gets only those of its case.
const VARS: [&str; 3] = ["KILI_API_KEY", "KILI_API_ENDPOINT", "KILI_VERIFY"];

#[test]
fn from_env_reads_key_endpoint_and_verify() {
    if let Ok(case) = std::env::var(CASE) {
        return check(&case);
    }
    let server = server();
    let plain = server.endpoint();
    let front = TlsFront::start(server.addr());
    let https = front.endpoint();

    in_child("invalid-input", &[]);
    in_child("invalid-input", &[("KILI_API_KEY", "")]);
    in_child("default-endpoint", &[("KILI_API_KEY", KEY)]);
    in_child(
        "serves",
        &[("KILI_API_KEY", KEY), ("KILI_API_ENDPOINT", plain.as_str())],
    );

    let tls = [("KILI_API_KEY", KEY), ("KILI_API_ENDPOINT", https.as_str())];
    // Verification on (the default, or asked for): the test CA is unknown.
    in_child("refused", &tls);
    for verify in ["true", "1"] {
        in_child("refused", &[tls[0], tls[1], ("KILI_VERIFY", verify)]);
    }
    for verify in ["false", "0", "no"] {
        in_child("serves", &[tls[0], tls[1], ("KILI_VERIFY", verify)]);
    }
    let ca = tls_file("ca.pem");
    let ca = ca.to_str().expect("a UTF-8 path");
    in_child("serves", &[tls[0], tls[1], ("KILI_VERIFY", ca)]);
    // A bundle that cannot be used is an input error, like a missing key.
    in_child(
        "invalid-input",
        &[tls[0], tls[1], ("KILI_VERIFY", "/nonexistent/bundle.pem")],
    );
}

/// The checks of a case, in the child.
fn check(case: &str) {
    match case {
        "invalid-input" => {
            assert!(matches!(Kili::from_env(), Err(Error::InvalidInput { .. })));
        }
        "default-endpoint" => {
            assert_eq!(Kili::from_env().unwrap().endpoint(), kili::DEFAULT_ENDPOINT);
        }
        "serves" => {
            let kili = Kili::from_env().unwrap();
            assert_eq!(kili.api_key(), KEY);
            assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
        }
        "refused" => {
            let kili = Kili::from_env().unwrap();
            assert!(
                kili.count_projects(&ProjectQuery::new()).is_err(),
                "the test CA is unknown"
            );
        }
        other => panic!("no case {other:?}"),
    }
}

/// Runs this test in a child process with `vars` (and none of [`VARS`] else) set, for `case`;
/// fails if the child's checks fail.
fn in_child(case: &str, vars: &[(&str, &str)]) {
    // The harness names tests by their path in the crate, without the crate's name.
    let module = module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, m)| m);
    let test = format!("{module}::from_env_reads_key_endpoint_and_verify");
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"));
    child.args(["--exact", &test, "--test-threads", "1"]);
    for var in VARS {
        child.env_remove(var);
    }
    let out = child
        .envs(vars.iter().copied())
        .env(CASE, case)
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{case} with {vars:?}: {}\n{stdout}\n{stderr}",
        out.status
    );
}
