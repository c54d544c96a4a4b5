//! The `kili-local-server` program in a child process, for the tests that measure what an attack
//! costs the server (its peak resident memory, `VmHWM`) or that need it to be a process of its
//! own (resource limits, logs on stderr).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::WAIT;

/// A running `kili-local-server`.
pub struct Program {
    child: Child,
    pub endpoint: String,
    pub key: String,
}

impl Program {
    /// Starts the program with `args`, through `sh -c` with `prefix` before it if given (a
    /// `trap`, a `ulimit`); waits for its endpoint and key.
    pub fn start(args: &[&str], prefix: Option<&str>) -> Program {
        let bin = env!("CARGO_BIN_EXE_kili-local-server");
        let mut command = match prefix {
            None => {
                let mut c = Command::new(bin);
                c.args(args);
                c
            }
            Some(prefix) => {
                let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("{prefix}; exec '{bin}' {}", quoted.join(" ")));
                c
            }
        };
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the program starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut field = |name: &str| {
            let line = lines.next().expect("a line").expect("readable stdout");
            line.strip_prefix(name)
                .unwrap_or_else(|| panic!("expected {name:?}, got {line:?}"))
                .to_owned()
        };
        let endpoint = field("endpoint: ");
        let key = field("api key: ");
        Program {
            child,
            endpoint,
            key,
        }
    }

    /// The address it listens on, `127.0.0.1:PORT`.
    pub fn addr(&self) -> std::net::SocketAddr {
        let rest = self.endpoint.strip_prefix("http://").unwrap();
        rest.split('/').next().unwrap().parse().unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Its peak resident memory so far, KiB.
    pub fn peak_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// Sends SIGTERM and waits (bounded) for the exit; returns its status and stderr.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the program did not stop within {WAIT:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        (status, err)
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
