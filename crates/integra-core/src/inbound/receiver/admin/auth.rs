//! Who calls the operators' API: the holder of one of the configured bearer tokens, known by
//! the token's SHA-256 (compared in constant time), with that token's role.

use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use sha2::{Digest, Sha256};

use super::super::auth::{Denied, authorization, same};
use crate::config::{AdminEndpoint, AdminRole};

/// An authenticated caller.
#[derive(Clone, Copy, Debug)]
pub(super) struct Caller<'a> {
    /// The token's name: written to the history of what the caller changes.
    pub(super) name: &'a str,
    pub(super) role: AdminRole,
}

/// The caller whose bearer token `headers` carry: 401 without one, 403 for one that is not
/// configured, 400 for two `Authorization` headers.
pub(super) fn caller<'a>(
    admin: &'a AdminEndpoint,
    headers: &HeaderMap,
) -> Result<Caller<'a>, Denied> {
    if headers.get_all(AUTHORIZATION).iter().nth(1).is_some() {
        return Err(Denied::Repeated(AUTHORIZATION.as_str().to_owned()));
    }
    let given = authorization(headers, "Bearer").ok_or(Denied::Missing("Bearer"))?;
    let digest = hex::encode(Sha256::digest(given.as_bytes()));
    // Every token is compared, whichever matches: the time taken tells nothing.
    let mut found = None;
    for token in &admin.tokens {
        let stored = token.sha256.to_ascii_lowercase();
        if same(stored.as_bytes(), digest.as_bytes()) && found.is_none() {
            found = Some(Caller {
                name: &token.name,
                role: token.role,
            });
        }
    }
    found.ok_or(Denied::Wrong)
}
