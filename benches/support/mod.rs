//! What every bench section shares: the report, process statistics, the child server and
//! data set-up through the client.

pub mod child;
pub mod procfs;
pub mod report;
pub mod setup;
