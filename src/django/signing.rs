//! `django.core.signing` and `django.utils.crypto.salted_hmac`.
//! STUB: interface fixed; implementation pending.

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningError {
    #[error("bad signature")]
    BadSignature,
    #[error("signature expired")]
    Expired,
    #[error("undecodable payload")]
    BadPayload,
}

/// base62 with Django's alphabet `0-9A-Za-z`; negative numbers get a leading `-`.
pub fn b62_encode(_n: i64) -> String {
    todo!()
}

pub fn b62_decode(_s: &str) -> Option<i64> {
    todo!()
}

/// `salted_hmac(key_salt, value, secret, algorithm="sha256").digest()`.
pub fn salted_hmac_sha256(_key_salt: &str, _value: &[u8], _secret: &str) -> [u8; 32] {
    todo!()
}

/// `salted_hmac(key_salt, value, secret, algorithm="sha1").digest()`.
pub fn salted_hmac_sha1(_key_salt: &str, _value: &[u8], _secret: &str) -> [u8; 20] {
    todo!()
}

/// `signing.dumps(obj, salt=salt, compress=True)` at the given unix time,
/// signed with `secret` (sha256). JSON is Python's compact `json.dumps`.
pub fn dumps(_obj: &Map<String, Value>, _secret: &str, _salt: &str, _timestamp: i64) -> String {
    todo!()
}

/// `signing.loads(s, salt=salt, max_age=…)`. `keys` is `[SECRET_KEY, *fallbacks]`
/// in order; `accept_sha1` is Django 3.2's legacy signature algorithm.
/// `max_age` is `(now, max_age_seconds)`.
pub fn loads(
    _s: &str,
    _keys: &[&str],
    _salt: &str,
    _accept_sha1: bool,
    _max_age: Option<(i64, i64)>,
) -> Result<Map<String, Value>, SigningError> {
    todo!()
}

/// Django 3.2 `SessionBase._legacy_decode` (pre-3.1 format). `None` if the hash
/// does not verify or the data is not a JSON object.
pub fn legacy_session_decode(_s: &str, _secret: &str) -> Option<Map<String, Value>> {
    todo!()
}

/// `AbstractBaseUser.get_session_auth_hash()` (sha256, lower-case hex).
pub fn session_auth_hash(_password: &str, _secret: &str) -> String {
    todo!()
}

/// Django 3.2 `_legacy_get_session_auth_hash()` (sha1, lower-case hex).
pub fn legacy_session_auth_hash(_password: &str, _secret: &str) -> String {
    todo!()
}
