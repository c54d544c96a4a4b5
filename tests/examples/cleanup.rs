//! The examples that create a project, run as a user with an account runs them
//! (`KILI_API_KEY` and `KILI_API_ENDPOINT` set): here the account is a local server of the
//! test, which then shows what the example left behind. Nothing, unless `--keep` is given.

use std::process::{Command, ExitStatus, Stdio};

use kili::{LabelQuery, ProjectQuery};
use kili_local_server::LocalServer;

use crate::support::*;
use crate::watch_labels::{PROCESS_PATIENCE, example, lines_of, wait_exit};

/// Runs the example `name` with `args` against `server` as an account; returns its exit
/// status, stdout and stderr lines.
fn run_with_account(
    name: &str,
    server: &LocalServer,
    args: &[&str],
) -> (ExitStatus, Vec<String>, Vec<String>) {
    let mut command = Command::new(example(name));
    command
        .args(args)
        .env("KILI_API_KEY", server.api_key())
        .env("KILI_API_ENDPOINT", server.endpoint())
        .env_remove("KILI_VERIFY")
        .env_remove("RUST_LOG")
        // `Kili::from_env` honours proxies: the server is on 127.0.0.1.
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    for proxy in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY"] {
        command.env_remove(proxy).env_remove(proxy.to_lowercase());
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let status = wait_exit(&mut child, PROCESS_PATIENCE);
    (status, stdout.iter().collect(), stderr.iter().collect())
}

/// The id in the line `prefix <id>` of `out`.
fn id_after(out: &[String], prefix: &str) -> String {
    out.iter()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {out:#?}"))
        .split_whitespace()
        .next()
        .expect("an id")
        .to_owned()
}

#[test]
fn webhooks_with_an_account_deletes_the_project_it_created() {
    let server = server();
    let kili = client(&server);
    let (status, out, err) = run_with_account("webhooks", &server, &[]);
    assert!(
        status.success(),
        "{status}\nstdout: {out:#?}\nstderr: {err:#?}"
    );
    assert_eq!(
        out[0],
        format!("Using Kili at {}", server.endpoint()),
        "{out:#?}"
    );
    let created = id_after(&out, "Created project ");
    assert_eq!(id_after(&out, "Deleted project "), created, "{out:#?}");
    assert_eq!(out.last().map(String::as_str), Some("All checks passed."));
    assert!(
        calls(&server)
            .iter()
            .any(|c| c == "deleteProjectAsynchronously")
    );
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
}

#[test]
fn webhooks_keep_leaves_the_project_and_its_labels() {
    let server = server();
    let kili = client(&server);
    let (status, out, err) = run_with_account("webhooks", &server, &["--keep"]);
    assert!(
        status.success(),
        "{status}\nstdout: {out:#?}\nstderr: {err:#?}"
    );
    let created = id_after(&out, "Created project ");
    assert_eq!(id_after(&out, "Kept project "), created, "{out:#?}");
    assert!(!out.iter().any(|l| l.starts_with("Deleted project")));
    let projects = kili
        .projects(&ProjectQuery::new())
        .unwrap()
        .collect_all()
        .unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].id(), created);
    assert_eq!(kili.count_labels(&LabelQuery::new(&created)).unwrap(), 4);
}

#[test]
fn import_with_progress_with_an_account_deletes_the_project_it_created() {
    let server = server();
    let kili = client(&server);
    let (status, out, err) = run_with_account("import_with_progress", &server, &[]);
    assert!(
        status.success(),
        "{status}\nstdout: {out:#?}\nstderr: {err:#?}"
    );
    let created = id_after(&out, "project ");
    assert!(out.iter().any(|l| l == "1000 labels"), "{out:#?}");
    assert_eq!(id_after(&out, "deleted project "), created, "{out:#?}");
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
}

#[test]
fn the_examples_reject_unknown_arguments() {
    let server = LocalServer::start().unwrap();
    for name in ["webhooks", "import_with_progress"] {
        let (status, out, err) = run_with_account(name, &server, &["--frobnicate"]);
        assert_eq!(status.code(), Some(2), "{name}: {out:#?} {err:#?}");
        assert!(
            err.iter().any(|l| l.starts_with("usage:")),
            "{name}: {err:#?}"
        );
    }
    let kili = client(&server);
    assert_eq!(kili.count_projects(&ProjectQuery::new()).unwrap(), 0);
}
