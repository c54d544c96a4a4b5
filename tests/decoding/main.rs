//! Property tests of the client's decoding: arbitrary JSON, bytes and HTTP responses for the
//! client (`client_decode`), arbitrary frames and bytes for a subscription (`ws_decode`): they
//! decode or fail cleanly, never panic. One test binary (each binary costs a link).
//!
//! Case counts are small so that `cargo test` stays quick; `PROPTEST_CASES=N` raises them, as
//! `.ci/steps/reliability.sh` does.

#[path = "../support/mod.rs"]
mod support;

mod client_decode;
mod ws_decode;
