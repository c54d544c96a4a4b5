//! Where webhooks may POST: plain `http://` URLs whose host is on loopback while the server
//! listens on loopback, or a target named in the allow-list (`--webhook-allow HOST[:PORT]`,
//! `LocalServerBuilder::webhook_allow`); nothing else. A server that listens beyond loopback
//! posts only to allow-listed targets, loopback included, so that it cannot be used to reach
//! into the network (or the services) of the machine it runs on.
//!
//! The check runs when a webhook is registered (a refusal is a clear GraphQL error) and again
//! before every attempt, on the addresses the host resolves to then: a name that resolved to
//! loopback at registration and to another address later is not followed there, and the
//! connection goes to an address that passed the check (no second resolution, no redirect).
//!
//! Uses nothing else of the crate: the schema and the delivery threads use it.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// One allow-list entry: a host (name or address), on one port or any.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Allowed {
    host: String,
    port: Option<u16>,
}

/// The targets a server's webhooks may POST to.
#[derive(Clone, Debug, Default)]
pub(crate) struct WebhookTargets {
    /// Whether the server listens on loopback only: then loopback targets need no allow-list.
    loopback_server: bool,
    allowed: Vec<Allowed>,
}

/// A parsed webhook URL: where to connect, and what to send in the request line and `Host`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The host as written (without brackets for IPv6), lowercase.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The path and query (`/` when the URL has none).
    pub(crate) path: String,
    /// The `Host` header: the URL's authority.
    pub(crate) authority: String,
}

impl WebhookTargets {
    /// Makes the targets of a server listening on loopback (or not), with these allow-list
    /// entries (`HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT`).
    ///
    /// # Errors
    ///
    /// A message naming an entry that is not of that shape.
    pub(crate) fn new(loopback_server: bool, allow: &[String]) -> Result<Self, String> {
        let mut allowed = Vec::with_capacity(allow.len());
        for entry in allow {
            let (host, port) = split_host_port(entry.trim())
                .ok_or_else(|| format!("webhook allow-list entry {entry:?} is not HOST[:PORT]"))?;
            allowed.push(Allowed { host, port });
        }
        Ok(WebhookTargets {
            loopback_server,
            allowed,
        })
    }

    /// Checks a webhook URL; returns its target and the addresses a POST may connect to.
    ///
    /// # Errors
    ///
    /// A message for the client: not a plain `http://` URL, a host that does not resolve, or a
    /// target this server may not POST to (with what would allow it).
    pub(crate) fn check(&self, url: &str) -> Result<(Target, Vec<SocketAddr>), String> {
        let target = parse_url(url)?;
        if self.is_allowed(&target) {
            let resolved = resolve(&target)?;
            return Ok((target, resolved));
        }
        let why = if self.loopback_server {
            let loopback: Vec<SocketAddr> = resolve(&target)?
                .into_iter()
                .filter(|a| a.ip().to_canonical().is_loopback())
                .collect();
            if !loopback.is_empty() {
                return Ok((target, loopback));
            }
            "it is not on loopback"
        } else {
            "this server listens beyond loopback, so it posts only to the targets of its allow-list"
        };
        Err(format!(
            "[webhookTargetNotAllowed] the local server may not POST to {url}: {why}; allow it \
             with --webhook-allow {}:{} (LocalServerBuilder::webhook_allow)",
            bracketed(&target.host),
            target.port
        ))
    }

    fn is_allowed(&self, t: &Target) -> bool {
        self.allowed
            .iter()
            .any(|a| a.host == t.host && a.port.is_none_or(|p| p == t.port))
    }
}

/// Writes an IPv6 address between brackets, anything else as is.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Parses `http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT]`; the fragment is dropped.
fn parse_url(url: &str) -> Result<Target, String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &url[7..]
    } else if lower.starts_with("https://") {
        return Err(format!(
            "[badWebhookUrl] {url}: the local server posts over plain http:// only (no TLS)"
        ));
    } else {
        return Err(format!("[badWebhookUrl] {url} is not an http:// URL"));
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') || authority.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(format!(
            "[badWebhookUrl] {url}: no user information or spaces in the host"
        ));
    }
    if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(format!(
            "[badWebhookUrl] {url}: spaces or control characters in the path"
        ));
    }
    let (host, port) = split_host_port(authority)
        .ok_or_else(|| format!("[badWebhookUrl] {url}: no valid host and port"))?;
    let path = match path {
        "" => "/".to_owned(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_owned(),
    };
    Ok(Target {
        host,
        port: port.unwrap_or(80),
        path,
        authority: authority.to_owned(),
    })
}

/// Splits `HOST[:PORT]` (`[V6][:PORT]` for IPv6): a lowercase host without brackets, and a
/// non-zero port if given.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => return None, // an IPv6 address must be in brackets
            None => (s, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0)?),
    };
    host_ok.then(|| (host.to_ascii_lowercase(), port))
}

/// Resolves the target's host (an address is taken as is; a name asks the system resolver).
fn resolve(t: &Target) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = t.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, t.port)]);
    }
    let found: Vec<SocketAddr> = (t.host.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| format!("[badWebhookUrl] cannot resolve {}: {e}", t.host))?
        .collect();
    if found.is_empty() {
        return Err(format!("[badWebhookUrl] {} resolves to no address", t.host));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> WebhookTargets {
        WebhookTargets::new(true, &[]).unwrap()
    }

    #[test]
    fn parses_http_urls() {
        let (t, addrs) = loopback()
            .check("http://127.0.0.1:8080/hook?x=1#f")
            .unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1", 8080, "/hook?x=1")
        );
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(addrs, vec!["127.0.0.1:8080".parse().unwrap()]);
        let (t, _) = loopback().check("HTTP://[::1]").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.path.as_str()), ("::1", 80, "/"));
        let (t, _) = loopback().check("http://127.0.0.2?q").unwrap();
        assert_eq!(t.path, "/?q");
    }

    #[test]
    fn refuses_what_it_cannot_or_may_not_post_to() {
        for bad in [
            "https://127.0.0.1/",
            "ftp://127.0.0.1/",
            "http://user@127.0.0.1/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http://::1/",
            "http:///x",
            "http://127.0.0.1/a b",
        ] {
            assert!(loopback().check(bad).is_err(), "{bad}");
        }
        let err = loopback().check("http://10.1.2.3:9000/").unwrap_err();
        assert!(err.contains("--webhook-allow 10.1.2.3:9000"), "{err}");
        assert!(
            loopback().check("http://0.0.0.0:9000/").is_err(),
            "not loopback"
        );
        assert!(loopback().check("http://[::ffff:127.0.0.1]:9/").is_ok());
    }

    #[test]
    fn beyond_loopback_only_the_allow_list_passes() {
        let open = WebhookTargets::new(false, &["127.0.0.1:9000".into(), "[::1]".into()]).unwrap();
        assert!(open.check("http://127.0.0.1:9000/").is_ok());
        assert!(
            open.check("http://127.0.0.1:9001/").is_err(),
            "another port"
        );
        assert!(open.check("http://[::1]:1234/").is_ok(), "any port");
        let err = open.check("http://localhost:9000/").unwrap_err();
        assert!(err.contains("beyond loopback"), "{err}");
        let allowed = WebhookTargets::new(true, &["10.1.2.3".into()]).unwrap();
        assert!(allowed.check("http://10.1.2.3:8000/x").is_ok());
        for bad in ["", "http://x", "a:b:c", "[::1", "host:0"] {
            assert!(WebhookTargets::new(true, &[bad.into()]).is_err(), "{bad}");
        }
    }
}
