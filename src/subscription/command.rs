//! [`Command`]: what the handle asks of the subscription's thread, through a channel.

use crossbeam_channel::Sender;

use crate::error::Result;

/// What the handle asks of the thread.
#[derive(Debug)]
pub(crate) enum Command {
    /// Close the connection and stop.
    Close,
    /// Open a fresh connection and subscribe again; answer once established (or not).
    Reset(Sender<Result<()>>),
}
