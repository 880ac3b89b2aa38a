//! `django.core.signing` and `django.utils.crypto.salted_hmac`.

use std::io::{Read, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningError {
    #[error("bad signature")]
    BadSignature,
    #[error("signature expired")]
    Expired,
    #[error("undecodable payload")]
    BadPayload,
}

/// `django.core.signing.BASE62_ALPHABET` (digits, upper case, lower case).
const BASE62_ALPHABET: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `AbstractBaseUser.get_session_auth_hash`'s `key_salt`.
const AUTH_HASH_KEY_SALT: &str =
    "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

/// 3.2 `SessionBase._hash`: `"django.contrib.sessions" + class name`, no dot.
const LEGACY_SESSION_KEY_SALT: &str = "django.contrib.sessionsSessionStore";

/// base62 with Django's alphabet `0-9A-Za-z`; negative numbers get a leading `-`.
pub fn b62_encode(n: i64) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut rest = n.unsigned_abs();
    let mut digits = Vec::new();
    while rest > 0 {
        digits.push(BASE62_ALPHABET[(rest % 62) as usize]);
        rest /= 62;
    }
    if n < 0 {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).expect("ASCII alphabet")
}

/// `signing.b62_decode`: `None` where Python raises (empty string, a
/// character outside the alphabet) or the value does not fit an `i64`.
/// Like Python, `"-"` decodes to 0.
pub fn b62_decode(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None if s.is_empty() => return None,
        None => (false, s),
    };
    // i128, so that `-` + the magnitude of i64::MIN reads back.
    let mut value: i128 = 0;
    for c in digits.bytes() {
        let idx = BASE62_ALPHABET.iter().position(|&a| a == c)? as i128;
        value = value.checked_mul(62)?.checked_add(idx)?;
        if value > i64::MAX as i128 + 1 {
            return None;
        }
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

/// `salted_hmac(key_salt, value, secret, algorithm="sha256").digest()`.
pub fn salted_hmac_sha256(key_salt: &str, value: &[u8], secret: &str) -> [u8; 32] {
    let key = Sha256::new()
        .chain_update(key_salt.as_bytes())
        .chain_update(secret.as_bytes())
        .finalize();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(value);
    mac.finalize().into_bytes().into()
}

/// `salted_hmac(key_salt, value, secret, algorithm="sha1").digest()`.
pub fn salted_hmac_sha1(key_salt: &str, value: &[u8], secret: &str) -> [u8; 20] {
    let key = Sha1::new()
        .chain_update(key_salt.as_bytes())
        .chain_update(secret.as_bytes())
        .finalize();
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&key).expect("HMAC takes any key");
    mac.update(value);
    mac.finalize().into_bytes().into()
}

/// `Signer.signature(value, key)`: `b64_encode(salted_hmac(salt + "signer", …))`.
fn signature_sha256(value: &str, salt: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(salted_hmac_sha256(
        &format!("{salt}signer"),
        value.as_bytes(),
        key,
    ))
}

/// 3.2 `Signer._legacy_signature`: the same with sha1.
fn signature_sha1(value: &str, salt: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(salted_hmac_sha1(
        &format!("{salt}signer"),
        value.as_bytes(),
        key,
    ))
}

/// `constant_time_compare` (`secrets.compare_digest` on UTF-8 bytes).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `signing.dumps(obj, salt=salt, compress=True)` at the given unix time,
/// signed with `secret` (sha256). JSON is Python's compact `json.dumps`.
pub fn dumps(obj: &Map<String, Value>, secret: &str, salt: &str, timestamp: i64) -> String {
    // JSONSerializer.dumps: compact separators, ensure_ascii, latin-1 (so ASCII).
    let data = super::json::dumps_object(obj, true).into_bytes();
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&data).expect("writing to a Vec");
    let compressed = encoder.finish().expect("writing to a Vec");
    // core/signing.py Signer.sign_object: compressed only if `len(compressed) < len(data) - 1`.
    let payload = if compressed.len() + 1 < data.len() {
        format!(".{}", URL_SAFE_NO_PAD.encode(&compressed))
    } else {
        URL_SAFE_NO_PAD.encode(&data)
    };
    let value = format!("{payload}:{}", b62_encode(timestamp));
    let sig = signature_sha256(&value, salt, secret);
    format!("{value}:{sig}")
}

/// `signing.loads(s, salt=salt, max_age=…)`. `keys` is `[SECRET_KEY, *fallbacks]`
/// in order; `accept_sha1` is Django 3.2's legacy signature algorithm.
/// `max_age` is `(now, max_age_seconds)`.
pub fn loads(
    s: &str,
    keys: &[&str],
    salt: &str,
    accept_sha1: bool,
    max_age: Option<(i64, i64)>,
) -> Result<Map<String, Value>, SigningError> {
    // Signer.unsign: rsplit(":", 1), then try every key.
    let (value, sig) = s.rsplit_once(':').ok_or(SigningError::BadSignature)?;
    let verified = keys.iter().any(|key| {
        constant_time_eq(
            sig.as_bytes(),
            signature_sha256(value, salt, key).as_bytes(),
        ) || (accept_sha1
            && constant_time_eq(sig.as_bytes(), signature_sha1(value, salt, key).as_bytes()))
    });
    if !verified {
        return Err(SigningError::BadSignature);
    }
    // TimestampSigner.unsign: a ValueError (no ':' or bad base62) here is not
    // a BadSignature in Django either.
    let (payload, ts) = value.rsplit_once(':').ok_or(SigningError::BadPayload)?;
    let ts = b62_decode(ts).ok_or(SigningError::BadPayload)?;
    if let Some((now, max_age)) = max_age {
        // Django compares the float `time.time() - ts > max_age`; with an
        // integer `now` a fractional second past the limit is not seen.
        if now.saturating_sub(ts) > max_age {
            return Err(SigningError::Expired);
        }
    }
    let (compressed, b64) = match payload.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, payload),
    };
    let mut data = django_b64_decode(b64.as_bytes()).ok_or(SigningError::BadPayload)?;
    if compressed {
        let mut out = Vec::new();
        ZlibDecoder::new(&data[..])
            .read_to_end(&mut out)
            .map_err(|_| SigningError::BadPayload)?;
        data = out;
    }
    json_object_from_latin1(&data).ok_or(SigningError::BadPayload)
}

/// `JSONSerializer.loads`: `json.loads(data.decode("latin-1"))`, and the
/// session code needs a dict.
fn json_object_from_latin1(data: &[u8]) -> Option<Map<String, Value>> {
    let text: String = data.iter().map(|&b| b as char).collect();
    match serde_json::from_str::<Value>(&text).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// `signing.b64_decode`: pad to a multiple of 4 (counting every character),
/// then `base64.urlsafe_b64decode`.
fn django_b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let pad = (4 - s.len() % 4) % 4;
    let translated: Vec<u8> = s
        .iter()
        .map(|&c| match c {
            b'-' => b'+',
            b'_' => b'/',
            c => c,
        })
        .chain(std::iter::repeat_n(b'=', pad))
        .collect();
    python_a2b_base64(&translated)
}

/// CPython's non-strict `binascii.a2b_base64` (what `base64.b64decode` uses
/// with `validate=False`). Hand-written because the `base64` crate has no mode
/// that skips characters outside the alphabet and stops at the first complete
/// padding the way CPython does. `None` where Python raises `binascii.Error`.
pub(crate) fn python_a2b_base64(input: &[u8]) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut quad_pos = 0u8;
    let mut left: u8 = 0;
    let mut pads = 0u8;
    for &c in input {
        if c == b'=' {
            if quad_pos >= 2 && {
                pads += 1;
                quad_pos + pads >= 4
            } {
                // A complete pad sequence ends the input.
                return Some(out);
            }
            continue;
        }
        let Some(v) = sextet(c) else { continue };
        pads = 0;
        match quad_pos {
            0 => {
                left = v;
                quad_pos = 1;
            }
            1 => {
                out.push((left << 2) | (v >> 4));
                left = v & 0x0f;
                quad_pos = 2;
            }
            2 => {
                out.push((left << 4) | (v >> 2));
                left = v & 0x03;
                quad_pos = 3;
            }
            _ => {
                out.push((left << 6) | v);
                quad_pos = 0;
            }
        }
    }
    (quad_pos == 0).then_some(out)
}

/// Django 3.2 `SessionBase._legacy_decode` (pre-3.1 format). `None` if the hash
/// does not verify or the data is not a JSON object.
pub fn legacy_session_decode(s: &str, secret: &str) -> Option<Map<String, Value>> {
    // `session_data.encode('ascii')` raises on anything else.
    if !s.is_ascii() {
        return None;
    }
    let decoded = python_a2b_base64(s.as_bytes())?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let (hash, serialized) = (&decoded[..colon], &decoded[colon + 1..]);
    // `hash.decode()` must be valid UTF-8 before the comparison.
    std::str::from_utf8(hash).ok()?;
    let expected = hex(&salted_hmac_sha1(
        LEGACY_SESSION_KEY_SALT,
        serialized,
        secret,
    ));
    if !constant_time_eq(hash, expected.as_bytes()) {
        return None;
    }
    json_object_from_latin1(serialized)
}

/// `AbstractBaseUser.get_session_auth_hash()` (sha256, lower-case hex).
pub fn session_auth_hash(password: &str, secret: &str) -> String {
    hex(&salted_hmac_sha256(
        AUTH_HASH_KEY_SALT,
        password.as_bytes(),
        secret,
    ))
}

/// Django 3.2 `_legacy_get_session_auth_hash()` (sha1, lower-case hex).
pub fn legacy_session_auth_hash(password: &str, secret: &str) -> String {
    hex(&salted_hmac_sha1(
        AUTH_HASH_KEY_SALT,
        password.as_bytes(),
        secret,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "test-secret";
    const SESSION_SALT: &str = "django.contrib.sessions.SessionStore";
    const COOKIE_SALT: &str = "django.contrib.sessions.backends.signed_cookies";
    const T: i64 = 1_700_000_000;
    const PASSWORD: &str =
        "pbkdf2_sha256$600000$fixedsalt0123456$Q0ZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkZGRkY=";
    const AUTH_HASH: &str = "160265ff7af16b19342ac7b4a295a1279fffc3e76818eef6c92679a501e89b9c";
    // All vectors below: Django 5.2.19 / 3.2.25, SECRET_KEY='test-secret',
    // `signing.dumps(..., compress=True)` under `mock.patch('time.time', return_value=1700000000)`.
    const DB_DATA: &str = ".eJxVjMsOwiAQAP-FsyGFlsd69N5vIAvsStXQpLQn478bkh70OjOZtwh47CUcjbawZHEVSlx-WcT0pNpFfmC9rzKtdd-WKHsiT9vkvGZ63c72b1Cwlb61g7aG2SErGxWMk8bk4oQaDCrtgJnTSM565YnYJtDWAZpBkYcISXy-1pk3vQ:1r31eq:74dkpyFz7-8-16-IloqB6r6ywIE4NXTNM6-zH7a_5pg";
    const COOKIE_DATA: &str = ".eJxVjMsOwiAQAP-FsyGFlsd69N5vIAvsStXQpLQn478bkh70OjOZtwh47CUcjbawZHEVSlx-WcT0pNpFfmC9rzKtdd-WKHsiT9vkvGZ63c72b1Cwlb61g7aG2SErGxWMk8bk4oQaDCrtgJnTSM565YnYJtDWAZpBkYcISXy-1pk3vQ:1r31eq:fPyakqKgxL371GGv2sQsd5Xd4Zn3xocV4sFpQ5MJurQ";
    // key='old-secret'
    const OLD_KEY_DATA: &str = ".eJxVjMsOwiAQAP-FsyGFlsd69N5vIAvsStXQpLQn478bkh70OjOZtwh47CUcjbawZHEVSlx-WcT0pNpFfmC9rzKtdd-WKHsiT9vkvGZ63c72b1Cwlb61g7aG2SErGxWMk8bk4oQaDCrtgJnTSM565YnYJtDWAZpBkYcISXy-1pk3vQ:1r31eq:pzyZ2wf8gvt2HQNYRH4uLDItoT7bb0p9Cm46dYqrUEU";
    // Django 3.2.25 with DEFAULT_HASHING_ALGORITHM='sha1', _auth_user_hash = the sha1 one.
    const SHA1_DATA: &str = ".eJxVjDsOwjAQBe-yNbJYOx9BSc8ZrP3YcQDZUpxUUe4eIqWA9s3MW8HTMie_1DD5UeEOCJffjUneIR9AX5SHYqTkeRrZHIo5aTXPouHzON2_g0Q1fesWVVrbizYNW6vxaokQlaKi9M65yDfpNDJsO_0VMhY:1r31eq:O26X0mIW_vPc9jr0PcJ-DjtoYN0";
    const SHA1_A1: &str = "eyJhIjoxfQ:1r31eq:aVpXpNAWic4dgHpkXWSk8WESCCA";

    fn session_dict(hash: &str) -> Map<String, Value> {
        json!({
            "_auth_user_id": "1",
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": hash,
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn base62() {
        // signing.b62_encode (5.2.19)
        for (n, s) in [
            (0, "0"),
            (1, "1"),
            (61, "z"),
            (62, "10"),
            (T, "1r31eq"),
            (-5, "-5"),
            (-62, "-10"),
            (1 << 40, "JMAIjoW"),
        ] {
            assert_eq!(b62_encode(n), s);
            assert_eq!(b62_decode(s), Some(n));
        }
        assert_eq!(b62_decode(""), None);
        assert_eq!(b62_decode("-"), Some(0));
        assert_eq!(b62_decode("1r3!"), None);
        assert_eq!(b62_decode("zzzzzzzzzzzzzzzzzzzz"), None);
        assert_eq!(b62_encode(i64::MIN).len(), 12);
    }

    #[test]
    fn salted_hmacs() {
        // salted_hmac("salt", "value", secret="sec", algorithm=…).hexdigest()
        assert_eq!(
            hex(&salted_hmac_sha256("salt", b"value", "sec")),
            "2164067e39a20aa6ffa979d8d391748c89b756bac10d496295912fa76f702043"
        );
        assert_eq!(
            hex(&salted_hmac_sha1("salt", b"value", "sec")),
            "2a43027efad360db92fcd3afca65b0efa592d6f5"
        );
        // salted_hmac("s\xe9lt", "v\xe9lue", secret="s\xe9c", algorithm="sha256")
        assert_eq!(
            hex(&salted_hmac_sha256(
                "s\u{e9}lt",
                "v\u{e9}lue".as_bytes(),
                "s\u{e9}c"
            )),
            "a5e4f4d2ff0b0336dc3025eb9168ad991bfb2a34cc5d54aaaa0a1f6a6b8e6586"
        );
    }

    #[test]
    fn auth_hashes() {
        assert_eq!(session_auth_hash(PASSWORD, SECRET), AUTH_HASH);
        assert_eq!(
            legacy_session_auth_hash(PASSWORD, SECRET),
            "51dc527cd44b22df02aa11dafd1c7333fb9c6dfb"
        );
    }

    #[test]
    fn dumps_worked_examples() {
        assert_eq!(
            dumps(&obj(json!({"a": 1})), SECRET, SESSION_SALT, T),
            "eyJhIjoxfQ:1r31eq:VDoz3q_CPuIfX082QS3lXvNvB9Hqf_apspxKtUHkO_o"
        );
        assert_eq!(
            dumps(&Map::new(), SECRET, SESSION_SALT, T),
            "e30:1r31eq:_F3okiP-noHBD-hYzEdpe7d0AmxCfHuvu0s551rcuJM"
        );
        assert_eq!(
            dumps(&session_dict(AUTH_HASH), SECRET, SESSION_SALT, T),
            DB_DATA
        );
        assert_eq!(
            dumps(&session_dict(AUTH_HASH), SECRET, COOKIE_SALT, T),
            COOKIE_DATA
        );
        assert_eq!(
            dumps(
                &obj(json!({"k": "ab".repeat(200)})),
                SECRET,
                SESSION_SALT,
                T
            ),
            ".eJyrVspWslJKTBqFgwkq1QIA9Veafg:1r31eq:RiaQdZqEQnjemoO_HthmDhxUu4KlHsoI3-z7uB-Nx2g"
        );
    }

    #[test]
    fn dumps_non_ascii_uncompressed() {
        // {"k":"caf\xe9 \U0001F600 \u2028","n":None,"t":True,"f":1.5,"l":[1,2,{"x":-3}]}
        let v = obj(
            json!({"k": "caf\u{e9} \u{1F600} \u{2028}", "n": null, "t": true, "f": 1.5, "l": [1, 2, {"x": -3}]}),
        );
        let s = "eyJrIjoiY2FmXHUwMGU5IFx1ZDgzZFx1ZGUwMCBcdTIwMjgiLCJuIjpudWxsLCJ0Ijp0cnVlLCJmIjoxLjUsImwiOlsxLDIseyJ4IjotM31dfQ:1r31eq:LLtdiElLHxWY9gxrv70twsd9JdgcqUUaRqvi01s4774";
        assert_eq!(dumps(&v, SECRET, SESSION_SALT, T), s);
        assert_eq!(loads(s, &[SECRET], SESSION_SALT, false, None), Ok(v));
    }

    #[test]
    fn compression_threshold() {
        // Python zlib 1.2.13: {"k":"a"*11} is 19 bytes, compressed 18 (not
        // used: 18 < 18 is false); {"k":"a"*12} is 20 bytes, compressed 18 (used).
        let s11 = dumps(&obj(json!({"k": "a".repeat(11)})), SECRET, SESSION_SALT, T);
        assert!(!s11.starts_with('.'), "{s11}");
        let s12 = dumps(&obj(json!({"k": "a".repeat(12)})), SECRET, SESSION_SALT, T);
        assert!(s12.starts_with('.'), "{s12}");
        for s in [s11, s12] {
            assert!(loads(&s, &[SECRET], SESSION_SALT, false, None).is_ok());
        }
    }

    #[test]
    fn loads_worked_examples() {
        assert_eq!(
            loads(DB_DATA, &[SECRET], SESSION_SALT, false, None),
            Ok(session_dict(AUTH_HASH))
        );
        // signed_cookies: max_age measured from the signing timestamp.
        let two_weeks = 1_209_600;
        assert_eq!(
            loads(
                COOKIE_DATA,
                &[SECRET],
                COOKIE_SALT,
                false,
                Some((T + two_weeks, two_weeks))
            ),
            Ok(session_dict(AUTH_HASH))
        );
        assert_eq!(
            loads(
                COOKIE_DATA,
                &[SECRET],
                COOKIE_SALT,
                false,
                Some((T + two_weeks + 1, two_weeks))
            ),
            Err(SigningError::Expired)
        );
        // Wrong salt for the value.
        assert_eq!(
            loads(COOKIE_DATA, &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
        assert_eq!(
            loads(
                "e30:1r31eq:_F3okiP-noHBD-hYzEdpe7d0AmxCfHuvu0s551rcuJM",
                &[SECRET],
                SESSION_SALT,
                false,
                None
            ),
            Ok(Map::new())
        );
    }

    #[test]
    fn loads_tampered() {
        let mut tampered = DB_DATA.to_string();
        tampered.pop();
        tampered.push('h');
        assert_eq!(
            loads(&tampered, &[SECRET], SESSION_SALT, true, None),
            Err(SigningError::BadSignature)
        );
        // Payload changed, signature kept.
        let tampered = DB_DATA.replacen(".eJxV", ".eJxW", 1);
        assert_eq!(
            loads(&tampered, &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
        assert_eq!(
            loads("no-colon", &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
        assert_eq!(
            loads("", &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
        assert_eq!(
            loads(DB_DATA, &["other"], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
        assert_eq!(
            loads(DB_DATA, &[], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
    }

    #[test]
    fn loads_fallback_keys() {
        assert_eq!(
            loads(OLD_KEY_DATA, &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
        assert_eq!(
            loads(
                OLD_KEY_DATA,
                &[SECRET, "old-secret"],
                SESSION_SALT,
                false,
                None
            ),
            Ok(session_dict(AUTH_HASH))
        );
        assert_eq!(
            loads(DB_DATA, &["old-secret", SECRET], SESSION_SALT, false, None),
            Ok(session_dict(AUTH_HASH))
        );
    }

    #[test]
    fn loads_sha1_only_when_accepted() {
        assert_eq!(
            loads(SHA1_DATA, &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
        assert_eq!(
            loads(SHA1_DATA, &[SECRET], SESSION_SALT, true, None),
            Ok(session_dict("51dc527cd44b22df02aa11dafd1c7333fb9c6dfb"))
        );
        assert_eq!(
            loads(SHA1_A1, &[SECRET], SESSION_SALT, true, None),
            Ok(obj(json!({"a": 1})))
        );
        assert_eq!(
            loads(SHA1_A1, &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadSignature)
        );
    }

    #[test]
    fn loads_bad_payloads() {
        let sign =
            |value: &str| format!("{value}:{}", signature_sha256(value, SESSION_SALT, SECRET));
        // A JSON list is not a session dict.
        let list = sign(&format!("{}:1r31eq", URL_SAFE_NO_PAD.encode(b"[1]")));
        assert_eq!(
            loads(&list, &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadPayload)
        );
        // No timestamp / bad timestamp.
        assert_eq!(
            loads(&sign("e30"), &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadPayload)
        );
        assert_eq!(
            loads(&sign("e30:!!"), &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadPayload)
        );
        // '.' but not zlib.
        assert_eq!(
            loads(&sign(".e30:1r31eq"), &[SECRET], SESSION_SALT, false, None),
            Err(SigningError::BadPayload)
        );
        // Latin-1 JSON: byte 0xe9 is U+00E9.
        let latin = sign(&format!(
            "{}:1r31eq",
            URL_SAFE_NO_PAD.encode(b"{\"k\":\"caf\xe9\"}")
        ));
        assert_eq!(
            loads(&latin, &[SECRET], SESSION_SALT, false, None),
            Ok(obj(json!({"k": "caf\u{e9}"})))
        );
        // max_age: exactly max_age old is accepted, one more second is not.
        let fresh = sign("e30:1r31eq");
        assert!(loads(&fresh, &[SECRET], SESSION_SALT, false, Some((T + 10, 10))).is_ok());
        assert_eq!(
            loads(&fresh, &[SECRET], SESSION_SALT, false, Some((T + 11, 10))),
            Err(SigningError::Expired)
        );
        // Timestamps in the future are never expired.
        assert!(loads(&fresh, &[SECRET], SESSION_SALT, false, Some((T - 1000, 10))).is_ok());
    }

    #[test]
    fn python_base64_quirks() {
        // base64.b64decode(x) in Python 3.12.1 (validate=False).
        assert_eq!(python_a2b_base64(b"YWJj"), Some(b"abc".to_vec()));
        assert_eq!(python_a2b_base64(b"YW Jj\n"), Some(b"abc".to_vec()));
        assert_eq!(python_a2b_base64(b"YQ=="), Some(b"a".to_vec()));
        assert_eq!(python_a2b_base64(b"YQ==YWJj"), Some(b"a".to_vec()));
        assert_eq!(python_a2b_base64(b"YQ"), None);
        assert_eq!(python_a2b_base64(b"YQ="), None);
        assert_eq!(python_a2b_base64(b"Y"), None);
        assert_eq!(python_a2b_base64(b"=YQ=="), Some(b"a".to_vec()));
        assert_eq!(python_a2b_base64(b""), Some(vec![]));
        assert_eq!(python_a2b_base64(b"YR=="), Some(b"a".to_vec()));
        assert_eq!(python_a2b_base64(b"YQ=\n="), Some(b"a".to_vec()));
        assert_eq!(python_a2b_base64(b"YWJ=jZA=="), Some(b"ab".to_vec()));
        assert_eq!(python_a2b_base64(b"YQ=x="), Some(b"a\x0c".to_vec()));
        assert_eq!(python_a2b_base64(b"YQ=xyzw="), None);
        assert_eq!(python_a2b_base64(b"Y=Q="), None);
        assert_eq!(python_a2b_base64(b"Y=Q=="), Some(b"a".to_vec()));
        assert_eq!(
            python_a2b_base64(b"YQ=xyzw=="),
            Some(b"a\x0cr\xcf".to_vec())
        );
    }

    #[test]
    fn legacy_format() {
        // SessionStore()._legacy_encode(d) in 3.2.25 (SECRET_KEY='test-secret').
        let legacy = "OWU1Mjk3MjgwMTQxZTJhMjBlMmFlZDkyOGQzNmMyMGM2ZjhhYzQ0Njp7Il9hdXRoX3VzZXJfaWQiOiIxIiwiX2F1dGhfdXNlcl9iYWNrZW5kIjoiZGphbmdvLmNvbnRyaWIuYXV0aC5iYWNrZW5kcy5Nb2RlbEJhY2tlbmQiLCJfYXV0aF91c2VyX2hhc2giOiI1MWRjNTI3Y2Q0NGIyMmRmMDJhYTExZGFmZDFjNzMzM2ZiOWM2ZGZiIn0=";
        assert_eq!(
            legacy_session_decode(legacy, SECRET),
            Some(session_dict("51dc527cd44b22df02aa11dafd1c7333fb9c6dfb"))
        );
        assert_eq!(legacy_session_decode(legacy, "other"), None);
        assert_eq!(
            legacy_session_decode(
                "ZGMzZTUxNzFlMGQ4NDAxNDJkOWI5NWU0MjcxMmU5MjEwN2ZiMWRmNDp7ImEiOjF9",
                SECRET
            ),
            Some(obj(json!({"a": 1})))
        );
        // _legacy_encode([1]): verifies, but is not a dict.
        assert_eq!(
            legacy_session_decode(
                "YmQzMGQ1OTQ0YTM1NzRhOTQyMjRkZGMzNzczOGYwYzdmMTc4NzZiODpbMV0=",
                SECRET
            ),
            None
        );
        assert_eq!(legacy_session_decode(DB_DATA, SECRET), None);
        assert_eq!(legacy_session_decode("", SECRET), None);
        assert_eq!(legacy_session_decode("\u{e9}", SECRET), None);
        // New-format values never decode as legacy ones.
        assert_eq!(legacy_session_decode(SHA1_A1, SECRET), None);
    }
}
