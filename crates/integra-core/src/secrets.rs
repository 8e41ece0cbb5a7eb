//! Secrets at rest: the key that seals the configuration's secrets (passwords, tokens, API
//! keys, HMAC secrets, the message exchange's passwords) in the database file, and sealing
//! itself.
//!
//! Without a key the database keeps secrets as they were given, and only the file's mode
//! (readable by its owner alone) protects them. With a [`SecretsKey`] every secret is
//! written sealed: XChaCha20-Poly1305 under the key with a random 192-bit nonce, stored as
//! `sealed:v1:<key fingerprint>:<hex of nonce and ciphertext>`. The key lives outside the
//! database (an environment variable or a key file readable by its owner only), so a copy of
//! the file alone, a backup, or a support bundle gives no secret away. Every process on the
//! database must have the same key; one without it (or with another) is refused at open
//! with an error naming the key's fingerprint, never handed ciphertext in place of a password.

use std::fmt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, Generate, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// The environment variable the front doors (C, the add-in) read the key from when their
/// settings name no key file.
pub const SECRETS_KEY_ENV: &str = "INTEGRA_SECRETS_KEY";

/// What a sealed secret starts with.
const SEALED_PREFIX: &str = "sealed:v1:";
/// Bytes of the key.
const KEY_BYTES: usize = 32;
/// Bytes of the nonce.
const NONCE_BYTES: usize = 24;
/// Bound to every sealed secret, so a ciphertext of something else never opens as one.
const CONTEXT: &[u8] = b"integra secret v1";

/// Why a key cannot be had, or a secret cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// The key's text is not 64 hexadecimal digits.
    #[error(
        "the secrets key from {source_name} is not 64 hexadecimal digits (32 bytes); make one with `openssl rand -hex 32`"
    )]
    KeyText {
        /// Where the key came from: `environment variable INTEGRA_SECRETS_KEY`, `file '…'`.
        source_name: String,
    },
    /// The key file cannot be read, or others may read it.
    #[error("the secrets key file '{path}' {reason}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database holds sealed secrets and this engine has no key.
    #[error(
        "the database's secrets are sealed with key {stored}, and this engine has no key: give it the same key (EngineOptions::secrets_key; the settings' 'secrets_key_file'; or the environment variable {SECRETS_KEY_ENV})"
    )]
    NoKey {
        /// The fingerprint of the key the secrets are sealed with.
        stored: String,
    },
    /// The database's secrets are sealed with another key.
    #[error(
        "the database's secrets are sealed with key {stored}, and this engine's key is {ours}: every process on one database needs the same key"
    )]
    WrongKey {
        /// The fingerprint of the key the secrets are sealed with.
        stored: String,
        /// This engine's key's fingerprint.
        ours: String,
    },
    /// A sealed secret does not open: it was altered or damaged.
    #[error("a sealed secret is damaged (it does not open with key {key}); write it again")]
    Damaged {
        /// The key's fingerprint.
        key: String,
    },
}

/// The key that seals secrets at rest: 32 bytes, given as 64 hexadecimal digits.
#[derive(Clone)]
pub struct SecretsKey {
    cipher: XChaCha20Poly1305,
    fingerprint: String,
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretsKey({})", self.fingerprint)
    }
}

impl SecretsKey {
    /// A key from its text: 64 hexadecimal digits, surrounding whitespace ignored.
    /// `source_name` says where the text came from, for the error.
    ///
    /// # Errors
    /// [`SecretsError::KeyText`].
    pub fn from_hex(text: &str, source_name: &str) -> Result<SecretsKey, SecretsError> {
        let bad = || SecretsError::KeyText {
            source_name: source_name.to_owned(),
        };
        let bytes = hex::decode(text.trim()).map_err(|_| bad())?;
        let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| bad())?;
        let digest = Sha256::new()
            .chain_update(b"integra secrets key")
            .chain_update(key)
            .finalize();
        Ok(SecretsKey {
            cipher: XChaCha20Poly1305::new(&key.into()),
            fingerprint: hex::encode(&digest[..4]),
        })
    }

    /// The key in the file at `path`, which only its owner may read (as an SSH key).
    ///
    /// # Errors
    /// [`SecretsError::KeyFile`] when it cannot be read or others may read it;
    /// [`SecretsError::KeyText`].
    pub fn from_file(path: &Path) -> Result<SecretsKey, SecretsError> {
        let fail = |reason: String| SecretsError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(fail(format!(
                    "may be read by others (mode {:o}); make it readable by its owner only: chmod 600",
                    mode & 0o777
                )));
            }
        }
        if meta.len() > 1024 {
            return Err(fail("is larger than a key".into()));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
        SecretsKey::from_hex(&text, &format!("file '{}'", path.display()))
    }

    /// The key in the environment variable [`SECRETS_KEY_ENV`], if it is set.
    ///
    /// # Errors
    /// [`SecretsError::KeyText`] when it is set but not a key.
    pub fn from_env() -> Result<Option<SecretsKey>, SecretsError> {
        match std::env::var(SECRETS_KEY_ENV) {
            Ok(text) => {
                SecretsKey::from_hex(&text, &format!("environment variable {SECRETS_KEY_ENV}"))
                    .map(Some)
            }
            Err(_) => Ok(None),
        }
    }

    /// A short name of the key that does not reveal it: 8 hexadecimal digits of a hash.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// `plain`, sealed.
    pub(crate) fn seal(&self, plain: &str) -> String {
        let nonce = XNonce::generate();
        let payload = chacha20poly1305::aead::Payload {
            msg: plain.as_bytes(),
            aad: CONTEXT,
        };
        // Encryption fails only for inputs beyond the cipher's 256 GiB.
        let sealed = self.cipher.encrypt(&nonce, payload).unwrap_or_default();
        format!(
            "{SEALED_PREFIX}{}:{}{}",
            self.fingerprint,
            hex::encode(nonce),
            hex::encode(sealed)
        )
    }

    /// The plain text of `text`: opened when sealed, as it is otherwise.
    ///
    /// # Errors
    /// [`SecretsError::WrongKey`], [`SecretsError::Damaged`].
    pub(crate) fn open(&self, text: &str) -> Result<String, SecretsError> {
        let Some((stored, body)) = sealed_parts(text) else {
            return Ok(text.to_owned());
        };
        let damaged = || SecretsError::Damaged {
            key: self.fingerprint.clone(),
        };
        if stored.is_empty() {
            return Err(damaged());
        }
        if stored != self.fingerprint {
            return Err(SecretsError::WrongKey {
                stored: stored.to_owned(),
                ours: self.fingerprint.clone(),
            });
        }
        let bytes = hex::decode(body).map_err(|_| damaged())?;
        if bytes.len() < NONCE_BYTES {
            return Err(damaged());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| damaged())?;
        let payload = chacha20poly1305::aead::Payload {
            msg: sealed,
            aad: CONTEXT,
        };
        let plain = self
            .cipher
            .decrypt(&nonce, payload)
            .map_err(|_| damaged())?;
        String::from_utf8(plain).map_err(|_| damaged())
    }
}

/// True when `text` is a sealed secret.
pub(crate) fn is_sealed(text: &str) -> bool {
    text.starts_with(SEALED_PREFIX)
}

/// Opens `text` with `key`: as it is when it is not sealed.
///
/// # Errors
/// [`SecretsError::NoKey`] for a sealed text and no key; as [`SecretsKey::open`].
pub(crate) fn open(key: Option<&SecretsKey>, text: &str) -> Result<String, SecretsError> {
    match (key, sealed_parts(text)) {
        (Some(key), _) => key.open(text),
        (None, Some((stored, _))) => Err(SecretsError::NoKey {
            stored: stored.to_owned(),
        }),
        (None, None) => Ok(text.to_owned()),
    }
}

/// Seals `text` with `key`; as it is without a key.
#[cfg(feature = "receiver")]
pub(crate) fn seal(key: Option<&SecretsKey>, text: &str) -> String {
    match key {
        Some(key) => key.seal(text),
        None => text.to_owned(),
    }
}

/// The key fingerprint and the hexadecimal body of a sealed text (a sealed text without
/// them has an empty fingerprint and body, which no key opens).
fn sealed_parts(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(SEALED_PREFIX)?;
    Some(rest.split_once(':').unwrap_or(("", "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let key = SecretsKey::from_hex(KEY, "test").unwrap();
        let sealed = key.seal("s3cret");
        assert!(is_sealed(&sealed) && !sealed.contains("s3cret"), "{sealed}");
        assert_ne!(sealed, key.seal("s3cret"), "a fresh nonce each time");
        assert_eq!(key.open(&sealed).unwrap(), "s3cret");
        assert_eq!(open(Some(&key), "plain").unwrap(), "plain");
        let err = open(None, &sealed).unwrap_err().to_string();
        assert!(err.contains(key.fingerprint()), "{err}");
        let other = SecretsKey::from_hex(&KEY.replace("00", "ff"), "test").unwrap();
        assert!(matches!(
            other.open(&sealed),
            Err(SecretsError::WrongKey { .. })
        ));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push('0');
        if altered == sealed {
            altered.replace_range(altered.len() - 1.., "1");
        }
        assert!(matches!(
            key.open(&altered),
            Err(SecretsError::Damaged { .. })
        ));
        assert!(matches!(
            key.open("sealed:v1:zz"),
            Err(SecretsError::WrongKey { .. }) | Err(SecretsError::Damaged { .. })
        ));
    }

    #[test]
    fn a_key_is_64_hex_digits_and_its_file_is_private() {
        assert!(SecretsKey::from_hex(&format!(" {KEY}\n"), "x").is_ok());
        for bad in ["", "zz", &KEY[..62], &format!("{KEY}00"), "я"] {
            let err = SecretsKey::from_hex(bad, "file 'k'").unwrap_err();
            assert!(err.to_string().contains("file 'k'"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, KEY).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = SecretsKey::from_file(&file).unwrap_err().to_string();
            assert!(err.contains("chmod 600"), "{err}");
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(SecretsKey::from_file(&file).is_ok());
    }
}
