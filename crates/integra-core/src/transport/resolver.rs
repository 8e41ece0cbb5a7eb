//! Name resolution for the HTTP client, remembered for a while.
//!
//! ureq resolves the host of every request, even one that goes out on a pooled
//! connection, and with a timeout configured it does so on a thread it spawns for the
//! lookup: a thread per request. This resolver answers an IP address at once, and a host
//! name from what it resolved within the last [`TTL`]; only a name it has not resolved
//! lately is looked up (through ureq's own resolver, with its timeout).
//!
//! ureq marks its resolver interface (`ureq::unversioned`) as not covered by semantic
//! versioning: it may change in any release, a patch release too. So the workspace requires
//! one release of ureq exactly (`ureq = "=3.5.2"`), for builds without this project's
//! `Cargo.lock` as well; moving to another means checking this module against it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a resolved name is used before it is looked up again.
const TTL: Duration = Duration::from_secs(30);

/// A resolver that remembers (see the module's docs).
#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    lookup: DefaultResolver,
    known: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(host), Some(scheme)) = (uri.host(), uri.scheme()) else {
            return self.lookup.resolve(uri, config, timeout);
        };
        let port = uri
            .port_u16()
            .unwrap_or(if scheme.as_str() == "https" { 443 } else { 80 });
        // An IP address (IPv6 in brackets in a URI) needs no lookup.
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            let mut addrs = self.lookup.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{host}:{port}");
        let now = Instant::now();
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, addrs)) = known.get(&key)
            && now.duration_since(*at) < TTL
        {
            return Ok(addrs.clone());
        }
        drop(known);
        let addrs = self.lookup.resolve(uri, config, timeout)?;
        known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        known.insert(key, (now, addrs.clone()));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    /// Issue 22: the dependency allowed any ureq 3.x, and a user's build resolved another
    /// release than the one this module was written against.
    #[test]
    fn ureq_is_required_at_one_release() {
        let manifest = include_str!("../../../../Cargo.toml");
        let requirement = manifest
            .lines()
            .find(|line| line.starts_with("ureq = "))
            .unwrap_or_default();
        assert!(
            requirement.contains("version = \"="),
            "ureq must be required exactly: {requirement}"
        );
    }
}
