//! The bench sections, one file each (numbered as in issue 6).

pub mod bare_server;
pub mod control;
pub mod http;
pub mod idle;
pub mod latency;
pub mod python;
pub mod throughput;
