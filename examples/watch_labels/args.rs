//! The command line.

use std::path::PathBuf;
use std::time::Duration;

use kili::{DEFAULT_ENDPOINT, WsProtocol};

pub const USAGE: &str = "usage: watch_labels --project-id ID [--endpoint URL] [--api-key KEY] \
[--count N] [--timeout SECONDS] [--state-file PATH] [--exit-on-eof] \
[--protocol graphql-ws|graphql-transport-ws] [--queue-capacity N]

  --project-id ID    the project whose labels to watch (required)
  --endpoint URL     the GraphQL endpoint (default: $KILI_API_ENDPOINT, else Kili's cloud)
  --api-key KEY      the API key (default: $KILI_API_KEY)
  --count N          exit after N labels
  --timeout SECONDS  exit after this long
  --state-file PATH  resume from the checkpoint in PATH if it exists, and keep it up to date
                     (written atomically after each batch of printed labels)
  --exit-on-eof      also exit when standard input ends (Ctrl-D); off by default, so that a
                     service started with stdin at /dev/null keeps running
  --protocol P       graphql-ws (default, Kili's) or graphql-transport-ws
  --queue-capacity N how many labels may wait between the subscription and the printing
                     (default 1024); when they are not printed as fast as they come (a slow
                     reader of stdout), the subscription stops reading the server until
                     there is room, so memory stays bounded and nothing is dropped

Runs until SIGINT or SIGTERM, --count or --timeout, then closes the subscription and exits 0.
Exits 1 if the subscription fails (e.g. a refused API key), 2 on a usage error.";

/// The command line, parsed.
#[derive(Debug)]
pub struct Args {
    pub endpoint: String,
    pub api_key: String,
    pub project_id: String,
    pub count: Option<u64>,
    pub timeout: Option<Duration>,
    pub state_file: Option<PathBuf>,
    pub exit_on_eof: bool,
    pub protocol: WsProtocol,
    pub queue_capacity: Option<usize>,
}

/// `Ok(None)` for `--help`.
pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut endpoint = env("KILI_API_ENDPOINT");
    let mut api_key = env("KILI_API_KEY");
    let mut project_id = None;
    let mut count = None;
    let mut timeout = None;
    let mut state_file = None;
    let mut exit_on_eof = false;
    let mut protocol = WsProtocol::GraphqlWs;
    let mut queue_capacity = None;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => endpoint = Some(value()?),
            "--api-key" => api_key = Some(value()?),
            "--project-id" => project_id = Some(value()?),
            "--count" => {
                let v = value()?;
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => count = Some(n),
                    _ => return Err(format!("--count wants a positive number, got {v:?}")),
                }
            }
            "--timeout" => {
                let v = value()?;
                match v.parse::<f64>() {
                    Ok(s) if s.is_finite() && s > 0.0 => {
                        timeout = Some(Duration::from_secs_f64(s.min(1e9)));
                    }
                    _ => {
                        return Err(format!(
                            "--timeout wants a positive number of seconds, got {v:?}"
                        ));
                    }
                }
            }
            "--state-file" => state_file = Some(PathBuf::from(value()?)),
            "--exit-on-eof" => exit_on_eof = true,
            "--protocol" => {
                protocol = match value()?.as_str() {
                    "graphql-ws" => WsProtocol::GraphqlWs,
                    "graphql-transport-ws" => WsProtocol::GraphqlTransportWs,
                    other => return Err(format!("unknown protocol {other:?}")),
                }
            }
            "--queue-capacity" => {
                let v = value()?;
                match v.parse::<usize>() {
                    Ok(n) if n > 0 => queue_capacity = Some(n),
                    _ => {
                        return Err(format!(
                            "--queue-capacity wants a positive number, got {v:?}"
                        ));
                    }
                }
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(Args {
        endpoint: endpoint.unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned()),
        api_key: api_key.ok_or("no API key: pass --api-key or set KILI_API_KEY")?,
        project_id: project_id.ok_or("--project-id is required")?,
        count,
        timeout,
        state_file,
        exit_on_eof,
        protocol,
        queue_capacity,
    }))
}
