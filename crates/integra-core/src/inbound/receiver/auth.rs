//! Checking a caller's credentials against a route's [`InboundAuth`]. Every secret is
//! compared in constant time; a missing credential and a wrong one are told apart (401 and
//! 403) but never say which part was wrong. A credentials header sent twice is refused
//! (400): judging one copy would let whatever added the other (a proxy, say) decide.

use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

use crate::config::{HmacAlgorithm, InboundAuth, SignatureEncoding};

/// Why a request was not let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Denied {
    /// No credentials (401, with the challenge).
    Missing(&'static str),
    /// Wrong credentials (403).
    Wrong,
    /// The header carrying the credentials, named, came more than once (400).
    Repeated(String),
}

/// Equal in constant time (for the content; lengths may differ in time).
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The value of header `name`, as text.
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The credentials of an `Authorization: <scheme> <credentials>` header.
pub(super) fn authorization<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    let value = header(headers, AUTHORIZATION.as_str())?;
    let (given, rest) = value.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// The header that carries `auth`'s credentials, as people write it.
fn credentials_header(auth: &InboundAuth) -> Option<&str> {
    match auth {
        InboundAuth::None => None,
        InboundAuth::Basic { .. } | InboundAuth::Bearer { .. } => Some("Authorization"),
        InboundAuth::ApiKey { header, .. } | InboundAuth::Hmac { header, .. } => Some(header),
    }
}

/// Checks everything but an HMAC signature, which needs the body: see [`check_signature`].
pub(super) fn check_headers(auth: &InboundAuth, headers: &HeaderMap) -> Result<(), Denied> {
    if let Some(name) = credentials_header(auth)
        && headers.get_all(name).iter().nth(1).is_some()
    {
        return Err(Denied::Repeated(name.to_owned()));
    }
    match auth {
        InboundAuth::None | InboundAuth::Hmac { .. } => Ok(()),
        InboundAuth::Basic { username, password } => {
            let given = authorization(headers, "Basic").ok_or(Denied::Missing("Basic"))?;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(given)
                .map_err(|_| Denied::Wrong)?;
            let expected = format!("{username}:{}", password.expose());
            if same(&decoded, expected.as_bytes()) {
                Ok(())
            } else {
                Err(Denied::Wrong)
            }
        }
        InboundAuth::Bearer { token } => {
            let given = authorization(headers, "Bearer").ok_or(Denied::Missing("Bearer"))?;
            if same(given.as_bytes(), token.expose().as_bytes()) {
                Ok(())
            } else {
                Err(Denied::Wrong)
            }
        }
        InboundAuth::ApiKey {
            header: name,
            value,
        } => {
            let given = header(headers, name).ok_or(Denied::Missing("ApiKey"))?;
            if same(given.as_bytes(), value.expose().as_bytes()) {
                Ok(())
            } else {
                Err(Denied::Wrong)
            }
        }
    }
}

/// Checks the HMAC signature of `body` when the route wants one.
pub(super) fn check_signature(
    auth: &InboundAuth,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Denied> {
    let InboundAuth::Hmac {
        header: name,
        secret,
        algorithm,
        encoding,
        prefix,
    } = auth
    else {
        return Ok(());
    };
    let given = header(headers, name).ok_or(Denied::Missing("HMAC"))?;
    let given = given.trim();
    let given = given.strip_prefix(prefix.as_str()).ok_or(Denied::Wrong)?;
    let signature = match encoding {
        SignatureEncoding::Hex => hex::decode(given).ok(),
        SignatureEncoding::Base64 => base64::engine::general_purpose::STANDARD.decode(given).ok(),
    }
    .ok_or(Denied::Wrong)?;
    let key = secret.expose().as_bytes();
    let verified = match algorithm {
        HmacAlgorithm::Sha256 => verify::<Hmac<sha2::Sha256>>(key, body, &signature),
        HmacAlgorithm::Sha512 => verify::<Hmac<sha2::Sha512>>(key, body, &signature),
        HmacAlgorithm::Sha1 => verify::<Hmac<sha1::Sha1>>(key, body, &signature),
    };
    if verified { Ok(()) } else { Err(Denied::Wrong) }
}

/// Verifies `signature` of `body` in constant time.
fn verify<M: Mac + KeyInit>(key: &[u8], body: &[u8], signature: &[u8]) -> bool {
    match <M as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(body);
            mac.verify_slice(signature).is_ok()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn basic_bearer_and_api_key() {
        let basic = InboundAuth::Basic {
            username: "exchange".into(),
            password: Secret::new("s3cret"),
        };
        let good = base64::engine::general_purpose::STANDARD.encode("exchange:s3cret");
        let bad = base64::engine::general_purpose::STANDARD.encode("exchange:guess");
        let ok = headers(&[("authorization", &format!("Basic {good}"))]);
        assert_eq!(check_headers(&basic, &ok), Ok(()));
        let wrong = headers(&[("authorization", &format!("basic {bad}"))]);
        assert_eq!(check_headers(&basic, &wrong), Err(Denied::Wrong));
        assert_eq!(
            check_headers(&basic, &HeaderMap::new()),
            Err(Denied::Missing("Basic"))
        );

        let bearer = InboundAuth::Bearer {
            token: Secret::new("t0ken"),
        };
        let ok = headers(&[("authorization", "Bearer t0ken")]);
        assert_eq!(check_headers(&bearer, &ok), Ok(()));
        let wrong = headers(&[("authorization", "Bearer t0ke")]);
        assert_eq!(check_headers(&bearer, &wrong), Err(Denied::Wrong));

        let key = InboundAuth::ApiKey {
            header: "X-API-Key".into(),
            value: Secret::new("k"),
        };
        assert_eq!(check_headers(&key, &headers(&[("x-api-key", "k")])), Ok(()));
        assert_eq!(
            check_headers(&key, &headers(&[("x-api-key", "K")])),
            Err(Denied::Wrong)
        );
    }

    #[test]
    fn a_credentials_header_sent_twice_is_refused_naming_it() {
        let mut twice = HeaderMap::new();
        twice.append(
            AUTHORIZATION,
            "Bearer t0ken".parse().expect("a header value"),
        );
        twice.append(
            AUTHORIZATION,
            "Bearer other".parse().expect("a header value"),
        );
        let bearer = InboundAuth::Bearer {
            token: Secret::new("t0ken"),
        };
        assert_eq!(
            check_headers(&bearer, &twice),
            Err(Denied::Repeated("Authorization".into()))
        );
        assert_eq!(check_headers(&InboundAuth::None, &twice), Ok(()));
        let signed = InboundAuth::Hmac {
            header: "X-Signature".into(),
            secret: Secret::new("shared"),
            algorithm: HmacAlgorithm::Sha256,
            encoding: SignatureEncoding::Hex,
            prefix: String::new(),
        };
        let mut twice = HeaderMap::new();
        twice.append("x-signature", "00".parse().expect("a header value"));
        twice.append("x-signature", "01".parse().expect("a header value"));
        assert_eq!(
            check_headers(&signed, &twice),
            Err(Denied::Repeated("X-Signature".into()))
        );
    }

    #[test]
    fn hmac_signatures_in_hex_with_prefix_and_in_base64() {
        let body = br#"{"id":1}"#;
        let mut mac =
            <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"shared").expect("any key length");
        mac.update(body);
        let raw = mac.finalize().into_bytes();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let github = InboundAuth::Hmac {
            header: "X-Hub-Signature-256".into(),
            secret: Secret::new("shared"),
            algorithm: HmacAlgorithm::Sha256,
            encoding: SignatureEncoding::Hex,
            prefix: "sha256=".into(),
        };
        let signed = headers(&[("x-hub-signature-256", &format!("sha256={hex}"))]);
        assert_eq!(check_signature(&github, &signed, body), Ok(()));
        assert_eq!(
            check_signature(&github, &signed, b"{\"id\":2}"),
            Err(Denied::Wrong)
        );
        let unprefixed = headers(&[("x-hub-signature-256", &hex)]);
        assert_eq!(
            check_signature(&github, &unprefixed, body),
            Err(Denied::Wrong)
        );

        let shopify = InboundAuth::Hmac {
            header: "X-Shopify-Hmac-Sha256".into(),
            secret: Secret::new("shared"),
            algorithm: HmacAlgorithm::Sha256,
            encoding: SignatureEncoding::Base64,
            prefix: String::new(),
        };
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let signed = headers(&[("x-shopify-hmac-sha256", &b64)]);
        assert_eq!(check_signature(&shopify, &signed, body), Ok(()));
        assert_eq!(
            check_signature(&shopify, &HeaderMap::new(), body),
            Err(Denied::Missing("HMAC"))
        );
    }
}
