//! Python's `json.dumps` (ensure_ascii) and `DjangoJSONEncoder`'s datetime format.
//!
//! Hand-written because no crate reproduces CPython's `json` output: serde_json
//! never escapes non-ASCII, has no `", "`/`": "` separators and formats floats
//! with ryu (`1e16`) where Python writes `repr(float)` (`1e+16`).

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use serde_json::{Map, Value};

/// `json.dumps(value)` with Python's defaults: `", "`/`": "` separators
/// (`compact=false`, what DjangoJSONEncoder().encode gives) or `","`/`":"`
/// (`compact=true`, what signing uses), `ensure_ascii=True`, insertion order.
pub fn dumps(value: &Value, compact: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, value, compact);
    out
}

/// [`dumps`] for a JSON object given as a map (avoids building a `Value`).
pub fn dumps_object(map: &Map<String, Value>, compact: bool) -> String {
    let mut out = String::new();
    write_object(&mut out, map, compact);
    out
}

fn write_value(out: &mut String, value: &Value, compact: bool) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(f) = n.as_f64() {
                out.push_str(&float_repr(f));
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if compact { "," } else { ", " });
                }
                write_value(out, item, compact);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, compact),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>, compact: bool) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(if compact { "," } else { ", " });
        }
        write_str(out, k);
        out.push_str(if compact { ":" } else { ": " });
        write_value(out, v, compact);
    }
    out.push('}');
}

/// CPython `json.encoder.py_encode_basestring_ascii`: short escapes for
/// `"\\\n\r\t\b\f`, `\uXXXX` (lower-case hex) for everything outside
/// `' '..='~'`, UTF-16 surrogate pairs above the BMP.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// CPython `float.__repr__` (`'r'` format, `Py_DTSF_ADD_DOT_0`): shortest
/// round-trip digits, scientific notation when the decimal exponent is
/// `< -4` or `>= 16`, exponent with a sign and at least two digits; and
/// `json`'s `NaN`/`Infinity` spellings (`allow_nan=True`).
fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. `-1.2345e3`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("LowerExp has an 'e'");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // Position of the decimal point relative to the first digit.
    let decpt = exp + 1;
    let n = digits.len() as i32;
    if f != 0.0 && !(-4 < decpt && decpt <= 16) {
        let mut m = digits[..1].to_string();
        if n > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    if decpt <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt >= n {
        format!("{sign}{digits}{}.0", "0".repeat((decpt - n) as usize))
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        format!("{sign}{int}.{frac}")
    }
}

/// DjangoJSONEncoder for an aware UTC datetime: isoformat, truncated to
/// milliseconds (no fraction when µs == 0), `+00:00` → `Z`.
pub fn format_datetime_utc(dt: &DateTime<Utc>) -> String {
    format!("{}Z", format_datetime_naive(&dt.naive_utc()))
}

/// DjangoJSONEncoder for a naive datetime (USE_TZ=False): no suffix.
pub fn format_datetime_naive(dt: &NaiveDateTime) -> String {
    let mut r = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    // A chrono leap second carries nanosecond >= 1e9; Python has none.
    let micros = (dt.nanosecond() % 1_000_000_000) / 1000;
    // core/serializers/json.py DjangoJSONEncoder.default: `if o.microsecond:
    // r = r[:23] + r[26:]`, i.e. truncated (not rounded) milliseconds.
    if micros != 0 {
        r.push_str(&format!(".{:03}", micros / 1000));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn utc(us: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2024, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, us)
            .unwrap()
            .and_utc()
    }

    // Expected values: Python 3.12.1 `json.dumps(v)` and
    // `json.dumps(v, separators=(',', ':'))`.
    #[test]
    fn python_json_dumps() {
        let v = json!({"upload_id": "e352145eba3145c3a59325694b93dc96", "offset": 11, "l": [1, 2, {}], "e": [], "n": null, "t": true, "f": false});
        assert_eq!(
            dumps(&v, false),
            r#"{"upload_id": "e352145eba3145c3a59325694b93dc96", "offset": 11, "l": [1, 2, {}], "e": [], "n": null, "t": true, "f": false}"#
        );
        assert_eq!(
            dumps(&v, true),
            r#"{"upload_id":"e352145eba3145c3a59325694b93dc96","offset":11,"l":[1,2,{}],"e":[],"n":null,"t":true,"f":false}"#
        );
        assert_eq!(dumps(&json!({}), false), "{}");
        assert_eq!(dumps(&json!({"a": 1}), true), r#"{"a":1}"#);
    }

    #[test]
    fn python_ensure_ascii() {
        // json.dumps("caf\xe9 \U0001F600 \u2028<\x7f\x00\x1f\"\\\n\r\t\b\f/")
        let v = json!("caf\u{e9} \u{1F600} \u{2028}<\u{7f}\u{0}\u{1f}\"\\\n\r\t\u{8}\u{c}/");
        assert_eq!(
            dumps(&v, false),
            r#""caf\u00e9 \ud83d\ude00 \u2028<\u007f\u0000\u001f\"\\\n\r\t\b\f/""#
        );
        // json.dumps({"\xe9": "\uffff"})
        assert_eq!(
            dumps(&json!({"\u{e9}": "\u{ffff}"}), false),
            r#"{"\u00e9": "\uffff"}"#
        );
        // DjangoJSONEncoder().encode({"detail": "No chunk file was submitted"})
        assert_eq!(
            dumps(&json!({"detail": "No chunk file was submitted"}), false),
            r#"{"detail": "No chunk file was submitted"}"#
        );
    }

    #[test]
    fn python_float_repr_and_ints() {
        // json.dumps([...]) in Python 3.12.1
        let v = json!([
            1.5,
            1.0,
            -0.0,
            0.0,
            1e16,
            1e15,
            123456789012345680.0,
            0.0001,
            0.00001,
            1.5e-7,
            -2.5e300,
            0.1,
            1.7976931348623157e308,
            5e-324,
            9007199254740993i64,
            -9223372036854775808i64,
            18446744073709551615u64
        ]);
        assert_eq!(
            dumps(&v, true),
            "[1.5,1.0,-0.0,0.0,1e+16,1000000000000000.0,1.2345678901234568e+17,0.0001,1e-05,1.5e-07,-2.5e+300,0.1,1.7976931348623157e+308,5e-324,9007199254740993,-9223372036854775808,18446744073709551615]"
        );
        assert_eq!(float_repr(f64::NAN), "NaN");
        assert_eq!(float_repr(f64::INFINITY), "Infinity");
        assert_eq!(float_repr(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(float_repr(123.456), "123.456");
        assert_eq!(float_repr(1e22), "1e+22");
        assert_eq!(float_repr(1234567890123456.7), "1234567890123456.8");
    }

    // Expected values: DjangoJSONEncoder().encode(datetime(...)) (3.2.25 and 5.2.19).
    #[test]
    fn django_datetimes() {
        assert_eq!(
            format_datetime_utc(&utc(678901)),
            "2024-01-02T03:04:05.678Z"
        );
        assert_eq!(format_datetime_utc(&utc(0)), "2024-01-02T03:04:05Z");
        assert_eq!(format_datetime_utc(&utc(500)), "2024-01-02T03:04:05.000Z");
        assert_eq!(
            format_datetime_utc(&utc(999999)),
            "2024-01-02T03:04:05.999Z"
        );
        assert_eq!(format_datetime_utc(&utc(1000)), "2024-01-02T03:04:05.001Z");
        assert_eq!(
            format_datetime_naive(&utc(678901).naive_utc()),
            "2024-01-02T03:04:05.678"
        );
        assert_eq!(
            format_datetime_naive(&utc(0).naive_utc()),
            "2024-01-02T03:04:05"
        );
        let early = NaiveDate::from_ymd_opt(999, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 1)
            .unwrap();
        assert_eq!(format_datetime_naive(&early), "0999-12-31T23:59:59.000");
    }
}
