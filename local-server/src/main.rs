//! The local Kili server as a program, for any client (the Python SDK, other languages) to test
//! against; it serves until killed.
//!
//! ```text
//! cargo run -p kili-local-server -- --port 4000 [--api-key KEY]
//! ```
//!
//! Prints `endpoint: http://127.0.0.1:PORT/api/label/v2/graphql` and `api key: KEY`, one line
//! each. `--port 0` (the default) picks a free port.

use std::io::Write;

use kili_local_server::LocalServer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = LocalServer::builder();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let port = args.next().ok_or("--port needs a value")?;
                builder = builder.port(port.parse().map_err(|e| format!("--port {port}: {e}"))?);
            }
            "--api-key" => builder = builder.api_key(args.next().ok_or("--api-key needs a value")?),
            "-h" | "--help" => {
                println!("usage: local_server [--port PORT] [--api-key KEY]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    let server = builder.start()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "endpoint: {}", server.endpoint())?;
    writeln!(out, "api key: {}", server.api_key())?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
