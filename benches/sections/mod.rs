//! The bench sections, one file each, in the order the suite runs them.

pub mod backpressure;
pub mod bare_server;
pub mod catchup;
pub mod cli;
pub mod control;
pub mod hotpath;
pub mod http;
pub mod latency;
pub mod python;
pub mod scale;
pub mod throughput;
pub mod webhook_latency;
pub mod webhooks;
