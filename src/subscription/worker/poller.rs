//! The connection as a catch-up sees it between the pages it reads ([`Poller`]): it sends
//! markers and reads, without waiting, what arrived.

use std::marker::PhantomData;
use std::time::Instant;

use super::connection::{Connection, Frame, frame};
use crate::error::Error;
use crate::subscription::feed::{Arrived, Feed, Wire};
use crate::subscription::status::Counters;
use crate::subscription::wire::link::{Incoming, read_error};
use crate::subscription::wire::protocol::{Action, End};

/// The connection while a catch-up reads pages: markers go out, and what arrived is read
/// without waiting. An end of the connection is kept for the thread to act on afterwards.
pub(super) struct Poller<'a, F> {
    pub(super) conn: &'a mut Connection,
    pub(super) counters: &'a Counters,
    pub(super) name: &'a str,
    pub(super) max_event_size: usize,
    pub(super) feed: PhantomData<F>,
}

impl<F: Feed> Poller<'_, F> {
    fn actions(&mut self, actions: Vec<Action>, out: &mut Vec<Arrived<F::Payload>>) {
        for action in actions {
            match action {
                Action::Send(text) => {
                    if self.conn.broken.is_none()
                        && let Err(e) = self.conn.link.send_text(text)
                    {
                        self.conn.broken = Some(e);
                    }
                }
                Action::Deliver(payload) => {
                    Counters::bump(&self.counters.received);
                    out.push(Arrived::Result(F::decode(&payload)));
                }
                Action::Marker(n) => out.push(Arrived::Marker(n)),
                Action::Ignored(why) => {
                    log::debug!("subscription {}: ignored a frame: {why}", self.name);
                }
                Action::End(end) => self.conn.ended = Some(end),
                // Only while confirming, never once a catch-up runs.
                Action::Ready => {}
            }
        }
    }
}

impl<F: Feed> Wire<F::Payload> for Poller<'_, F> {
    fn mark(&mut self) -> Option<u64> {
        if self.conn.ended.is_some() || self.conn.broken.is_some() {
            return None;
        }
        let (n, text) = self.conn.machine.marker()?;
        match self.conn.link.send_text(text) {
            Ok(()) => Some(n),
            Err(e) => {
                self.conn.broken = Some(e);
                None
            }
        }
    }

    fn poll(&mut self) -> Vec<Arrived<F::Payload>> {
        let mut out = Vec::new();
        for payload in std::mem::take(&mut self.conn.early) {
            Counters::bump(&self.counters.received);
            out.push(Arrived::Result(F::decode(&payload)));
        }
        while self.conn.ended.is_none() {
            match self.conn.link.read(Some(Instant::now())) {
                Incoming::Message(message) => match frame::<F>(self.conn, message) {
                    Frame::Result(payload) => {
                        Counters::bump(&self.counters.received);
                        out.push(Arrived::Result(Ok(payload)));
                    }
                    Frame::Actions(actions) => self.actions(actions, &mut out),
                },
                Incoming::TimedOut => break,
                Incoming::Over(Some(err)) => {
                    let cause = read_error(err, self.max_event_size);
                    self.conn.ended = Some(End::Retry(cause));
                }
                Incoming::Over(None) | Incoming::Ended => {
                    self.conn.ended = Some(End::Retry(Error::transport(
                        "reading from the subscription socket",
                        "the server closed the connection without a close frame",
                    )));
                }
            }
        }
        out
    }
}
