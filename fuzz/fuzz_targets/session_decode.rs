//! `django::signing`: `loads`, `legacy_session_decode`, and `dumps` → `loads`.
//!
//! Input layout (see fuzz/seeds/session_decode/): byte 0 flags, then lines
//! (`\n`, lossily UTF-8):
//!   0 a signed string for `loads` / `legacy_session_decode`
//!   1 SECRET_KEY (default `test-secret` when the line is missing)
//!   2 salt (default `django.contrib.sessions.SessionStore`)
//!   3 the timestamp for `dumps` (decimal i64; default 1700000000)
//!   4 `now,max_age` for `loads` (absent or unparsable: no max_age)
//!   5 the map for the round trip: `key=value&key=value…`; a value `#…`
//!     that parses as an i64, u64 or finite f64 is a number, `~t`/`~f`/`~n`
//!     are true/false/null, anything else a string. Missing: built from line 0.
//! flags bit 0: `accept_sha1` for the `loads` of line 0.
//!
//! Properties: no panic on anything; `loads(dumps(map))` is `map` (any key
//! order of the secrets list, sha1 accepted or not); the timestamp and
//! `max_age` decide expiry exactly; a wrong salt or secret is a
//! BadSignature; a 3.2 legacy encoding built here decodes to the map.
//!
//! Two known findings are stepped around so the rest keeps being checked:
//!   * floats: `loads` parses JSON with serde_json's default float parser,
//!     which can be 1 ULP off (`1.8446744071844674e+29` comes back as
//!     `1.844674407184467e+29`; Python's `json.loads` is exact). While the
//!     build lacks serde_json's `float_roundtrip` feature, floats compare
//!     within 1 ULP; with it, exactly (detected at run time, see `EXACT`).
//!   * `dumps` at `i64::MIN` writes a timestamp that `b62_decode` cannot read
//!     back (BadPayload); the round trip skips that one timestamp.
#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chunked_upload::django::json::dumps_object;
use chunked_upload::django::signing::{
    dumps, legacy_session_decode, loads, salted_hmac_sha1, SigningError,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value};

/// 3.2 `SessionBase._hash`'s key salt (`"django.contrib.sessions" + "SessionStore"`).
const LEGACY_KEY_SALT: &str = "django.contrib.sessionsSessionStore";

/// Whether this build's serde_json parses floats exactly (`float_roundtrip`).
fn exact_floats() -> bool {
    let text = "1.8446744071844674e+29";
    serde_json::from_str::<f64>(text).ok() == text.parse::<f64>().ok()
}

fn ulps_apart(a: f64, b: f64) -> u64 {
    if a == b {
        return 0;
    }
    if a.is_sign_negative() != b.is_sign_negative() {
        return u64::MAX;
    }
    a.to_bits().abs_diff(b.to_bits())
}

/// Map equality, floats within 1 ULP unless the build parses them exactly.
fn same(a: &Map<String, Value>, b: &Map<String, Value>, exact: bool) -> bool {
    if exact {
        return a == b;
    }
    a.len() == b.len()
        && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| {
            ka == kb
                && match (va, vb) {
                    (Value::Number(x), Value::Number(y)) if x.is_f64() && y.is_f64() => {
                        ulps_apart(x.as_f64().unwrap(), y.as_f64().unwrap()) <= 1
                    }
                    _ => va == vb,
                }
        })
}

fn assert_same(
    got: Result<Map<String, Value>, SigningError>,
    want: &Map<String, Value>,
    exact: bool,
    what: &str,
) {
    match &got {
        Ok(m) if same(m, want, exact) => {}
        _ => panic!("{what}\n  got: {got:?}\n want: {want:?}"),
    }
}

fn value_of(v: &str) -> Value {
    if let Some(n) = v.strip_prefix('#') {
        if let Ok(i) = n.parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(u) = n.parse::<u64>() {
            return Value::from(u);
        }
        if let Some(f) = n.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(f);
        }
    }
    match v {
        "~t" => Value::Bool(true),
        "~f" => Value::Bool(false),
        "~n" => Value::Null,
        _ => Value::String(v.to_owned()),
    }
}

fn map_of(spec: &str) -> Map<String, Value> {
    let mut map = Map::new();
    if spec.is_empty() {
        return map;
    }
    for pair in spec.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(k.to_owned(), value_of(v));
    }
    map
}

/// 3.2 `SessionBase._legacy_encode`: `b64encode(hash + b":" + serialized)`.
fn legacy_encode(map: &Map<String, Value>, secret: &str) -> String {
    let serialized = dumps_object(map, true);
    let hash: String = salted_hmac_sha1(LEGACY_KEY_SALT, serialized.as_bytes(), secret)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    STANDARD.encode(format!("{hash}:{serialized}"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let lines: Vec<&str> = text.split('\n').collect();
    let s = lines[0];
    let secret = lines.get(1).copied().unwrap_or("test-secret");
    let salt = lines
        .get(2)
        .copied()
        .unwrap_or("django.contrib.sessions.SessionStore");
    let ts = lines
        .get(3)
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(1_700_000_000);
    let max_age = lines.get(4).and_then(|l| {
        let (a, b) = l.split_once(',')?;
        Some((a.parse::<i64>().ok()?, b.parse::<i64>().ok()?))
    });
    let map = map_of(lines.get(5).copied().unwrap_or(s));

    // Arbitrary input: no panic.
    let _ = loads(s, &[secret], salt, flags & 1 != 0, max_age);
    let _ = loads(s, &["fallback", secret], salt, true, None);
    let _ = legacy_session_decode(s, secret);

    // dumps → loads.
    if ts == i64::MIN {
        return; // known: b62_decode cannot read b62_encode(i64::MIN)
    }
    let exact = exact_floats();
    let signed = dumps(&map, secret, salt, ts);
    for (keys, sha1) in [
        (&[secret][..], false),
        (&[secret][..], true),
        (&["not-the-key", secret][..], false),
    ] {
        assert_same(
            loads(&signed, keys, salt, sha1, None),
            &map,
            exact,
            &format!("loads(dumps(map)) with keys {keys:?}: {signed:?}"),
        );
    }
    assert_same(
        loads(&signed, &[secret], salt, false, Some((ts, 0))),
        &map,
        exact,
        &format!("not expired at its own timestamp: {signed:?}"),
    );
    if let Some(later) = ts.checked_add(1) {
        assert_eq!(
            loads(&signed, &[secret], salt, false, Some((later, 0))),
            Err(SigningError::Expired),
            "expired one second later: {signed:?}"
        );
    }
    let other_salt = format!("{salt}x");
    assert_eq!(
        loads(&signed, &[secret], &other_salt, true, None),
        Err(SigningError::BadSignature),
        "another salt: {signed:?}"
    );
    let other_secret = format!("{secret}x");
    assert_eq!(
        loads(&signed, &[other_secret.as_str()], salt, true, None),
        Err(SigningError::BadSignature),
        "another secret: {signed:?}"
    );

    // 3.2 legacy session format.
    let legacy = legacy_encode(&map, secret);
    assert_same(
        legacy_session_decode(&legacy, secret).ok_or(SigningError::BadPayload),
        &map,
        exact,
        &format!("legacy round trip: {legacy:?}"),
    );
});
