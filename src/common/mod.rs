//! What the client, the subscriptions and the webhook receiver share: backoff delays, a stable
//! hash, the ids this crate makes up, Kili's timestamps, and TLS settings. Nothing here knows of requests, subscriptions or
//! models; it uses only the crate's [`Error`](crate::Error).

pub(crate) mod backoff;
pub(crate) mod hash;
pub(crate) mod ids;
pub(crate) mod time;
pub(crate) mod tls;
