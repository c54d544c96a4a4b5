//! Host names resolved once in a while, not once a request.
//!
//! ureq 3 resolves the endpoint's host before it looks for a pooled connection, so every request
//! pays a lookup, even on a kept-alive connection; and with a deadline set (the client always
//! sets one) it runs the lookup on a new thread. On loopback that thread was a third of the
//! client's CPU per request; against Kili it is a DNS query per request as well. This resolver
//! keeps each host's addresses for [`KEEP`] and asks ureq's own resolver otherwise (failures are
//! not kept).
//!
//! It plugs into ureq's `unversioned` API, which does not follow semver: `Cargo.toml` holds ureq
//! to the minor version it was written against.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a host's addresses are used before they are looked up again (a DNS change reaches
/// new connections within this).
pub(crate) const KEEP: Duration = Duration::from_secs(30);

/// The most hosts remembered (the endpoint, and the storage hosts of upload URLs).
const HOSTS: usize = 8;

/// A host's addresses, and when they were looked up.
#[derive(Debug)]
struct Entry {
    host: String,
    at: Instant,
    addrs: ResolvedSocketAddrs,
}

/// ureq's resolver, with each host's answer kept for [`KEEP`].
#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    inner: DefaultResolver,
    kept: Mutex<Vec<Entry>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        let now = Instant::now();
        {
            let mut kept = self.kept.lock();
            kept.retain(|e| now.duration_since(e.at) < KEEP);
            if let Some(e) = kept.iter().find(|e| e.host == host) {
                return Ok(e.addrs.clone());
            }
        }
        // Looked up without the lock: a slow lookup does not hold up other hosts.
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let mut kept = self.kept.lock();
        if kept.len() >= HOSTS {
            kept.remove(0);
        }
        kept.push(Entry {
            host,
            at: now,
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(r: &CachingResolver, uri: &str) -> ResolvedSocketAddrs {
        let uri: Uri = uri.parse().unwrap();
        let config = ureq::Agent::config_builder().build();
        let timeout = NextTimeout {
            after: Duration::from_secs(5).into(),
            reason: ureq::Timeout::Resolve,
            ..NextTimeout::default()
        };
        r.resolve(&uri, &config, timeout).unwrap()
    }

    #[test]
    fn a_host_is_looked_up_once_and_kept() {
        let r = CachingResolver::default();
        let first = resolve(&r, "http://127.0.0.1:8080/graphql");
        assert_eq!(first[0], "127.0.0.1:8080".parse().unwrap());
        assert_eq!(r.kept.lock().len(), 1);
        // Kept: the same answer, no second entry.
        let again = resolve(&r, "http://127.0.0.1:8080/other");
        assert_eq!(&again[..], &first[..]);
        assert_eq!(r.kept.lock().len(), 1);
        // Another port is another host.
        let other = resolve(&r, "http://127.0.0.1:9090/");
        assert_eq!(other[0], "127.0.0.1:9090".parse().unwrap());
        assert_eq!(r.kept.lock().len(), 2);
    }

    #[test]
    fn stale_answers_are_looked_up_again_and_few_hosts_are_kept() {
        let r = CachingResolver::default();
        resolve(&r, "http://127.0.0.1:1/");
        r.kept.lock()[0].at = Instant::now().checked_sub(KEEP * 2).unwrap();
        resolve(&r, "http://127.0.0.1:2/");
        assert_eq!(r.kept.lock().len(), 1, "the stale entry went");
        for port in 10..30 {
            resolve(&r, &format!("http://127.0.0.1:{port}/"));
        }
        assert_eq!(r.kept.lock().len(), HOSTS);
    }
}
