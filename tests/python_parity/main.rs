//! The Rust client and the official Python SDK send the same operations (see `parity.rs`).
//! A binary of its own: `.ci/steps/python-parity.sh` runs it with the SDK installed.

#[path = "../support/mod.rs"]
mod support;

mod parity;
