//! The bench sections, one file each.

pub mod bare_server;
pub mod control;
pub mod hotpath;
pub mod http;
pub mod idle;
pub mod latency;
pub mod python;
pub mod throughput;
