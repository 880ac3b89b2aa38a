//! Cookie parsing as `django.http.cookie.parse_cookie`, and Set-Cookie values
//! rendered as Python's `http.cookies.Morsel.OutputString`.
//!
//! Hand-written: the `cookie` crate neither unquotes like `http.cookies._unquote`
//! (octal escapes) nor quotes like `_quote`, and sorts attributes differently.

use std::collections::HashMap;

/// `parse_cookie(header)`: split on `;`, first `=`, strip, `_unquote`; last wins.
///
/// `header` is the header as Django sees it: `get_str_from_wsgi` turns the
/// raw bytes into text with UTF-8 and `errors="replace"`.
pub fn parse_cookie(header: &str) -> HashMap<String, String> {
    let mut cookies = HashMap::new();
    for chunk in header.split(';') {
        // A chunk without '=' is an empty name (django/http/cookie.py parse_cookie).
        let (key, val) = chunk.split_once('=').unwrap_or(("", chunk));
        let (key, val) = (py_strip(key), py_strip(val));
        if !key.is_empty() || !val.is_empty() {
            cookies.insert(key.to_string(), unquote(val));
        }
    }
    cookies
}

/// Python `str.isspace()`: Unicode White_Space plus U+001C..U+001F (bidi
/// class B/S), which Rust's `char::is_whitespace` leaves out.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python `str.strip()` with no arguments.
fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// `http.cookies._unquote`: only a value wrapped in double quotes is
/// unescaped; `\ooo` (first digit 0-3) is an octal code point and `\x` is `x`
/// (`x` not a newline, as `.` in Python's `re`). At one position the octal form
/// wins.
fn unquote(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 2 || chars[0] != '"' || chars[chars.len() - 1] != '"' {
        return s.to_string();
    }
    let inner = &chars[1..chars.len() - 1];
    let octal_at = |i: usize| -> Option<u32> {
        let digits = inner.get(i + 1..i + 4)?;
        let valid = ('0'..='3').contains(&digits[0])
            && ('0'..='7').contains(&digits[1])
            && ('0'..='7').contains(&digits[2]);
        valid.then(|| {
            digits
                .iter()
                .fold(0, |acc, d| acc * 8 + d.to_digit(8).unwrap_or(0))
        })
    };
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        if c != '\\' {
            out.push(c);
            i += 1;
        } else if let Some(code) = octal_at(i) {
            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            i += 4;
        } else if let Some(&next) = inner.get(i + 1).filter(|&&n| n != '\n') {
            out.push(next);
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `http.cookies._LegalChars`.
fn is_legal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~:".contains(c)
}

/// `http.cookies._quote`: unchanged if every character is legal (and there is
/// at least one), else double-quoted with `"`/`\` backslash-escaped and the
/// other code points below 256 outside `_UnescapedChars` written as `\ooo`.
fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(is_legal_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_legal_char(c) || " ()/<=>?@[]{}".contains(c) => out.push(c),
            c if (c as u32) < 256 => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One `Set-Cookie` value, attributes as Django's `set_cookie` passes them.
#[derive(Debug, Clone, Default)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub expires: Option<String>,
    pub max_age: Option<i64>,
    pub path: String,
    pub domain: Option<String>,
    pub secure: bool,
    pub httponly: bool,
    pub samesite: Option<String>,
}

/// Morsel.OutputString skips attributes whose value is `""`.
fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl SetCookie {
    /// `Morsel.OutputString()`: `name=value` (quoted as Python quotes it),
    /// then attributes sorted: Domain?, expires, HttpOnly, Max-Age, Path,
    /// SameSite, Secure.
    pub fn render(&self) -> String {
        let mut parts = vec![format!("{}={}", self.name, quote(&self.value))];
        // Morsel.OutputString sorts by the lower-case attribute key and skips
        // attributes whose value is "" (or a false flag).
        if let Some(domain) = non_empty(&self.domain) {
            parts.push(format!("Domain={domain}"));
        }
        if let Some(expires) = non_empty(&self.expires) {
            parts.push(format!("expires={expires}"));
        }
        if self.httponly {
            parts.push("HttpOnly".into());
        }
        if let Some(max_age) = self.max_age {
            parts.push(format!("Max-Age={max_age}"));
        }
        if !self.path.is_empty() {
            parts.push(format!("Path={}", self.path));
        }
        if let Some(samesite) = non_empty(&self.samesite) {
            parts.push(format!("SameSite={samesite}"));
        }
        if self.secure {
            parts.push("Secure".into());
        }
        parts.join("; ")
    }

    /// `HttpResponse.set_cookie(name, value, max_age=…)` as Django computes
    /// `expires` from `max_age` at `now` (unix seconds).
    ///
    /// Everything else is `set_cookie`'s default (`path="/"`, no domain, flags
    /// off, no SameSite); set the fields afterwards as the caller passes them.
    pub fn with_max_age(name: &str, value: &str, max_age: i64, now: i64) -> SetCookie {
        SetCookie {
            name: name.to_string(),
            value: value.to_string(),
            expires: Some(http_date(now.saturating_add(max_age))),
            max_age: Some(max_age),
            path: "/".into(),
            ..SetCookie::default()
        }
    }

    /// `HttpResponse.delete_cookie(name, path, domain, samesite)`.
    ///
    /// With the default `path="/"` and no domain (set the fields to change them).
    pub fn deletion(name: &str, samesite: Option<&str>) -> SetCookie {
        // http/response.py delete_cookie: Secure only for __Secure-/__Host-
        // names or SameSite=None.
        let secure = name.starts_with("__Secure-")
            || name.starts_with("__Host-")
            || samesite.is_some_and(|s| s.eq_ignore_ascii_case("none"));
        SetCookie {
            name: name.to_string(),
            value: String::new(),
            expires: Some("Thu, 01 Jan 1970 00:00:00 GMT".into()),
            max_age: Some(0),
            path: "/".into(),
            domain: None,
            secure,
            httponly: false,
            samesite: samesite.map(str::to_string),
        }
    }
}

/// `django.utils.http.http_date`: `Wed, 09 Dec 2026 11:18:03 GMT`.
pub fn http_date(epoch_secs: i64) -> String {
    // chrono rather than httpdate: it also covers times before 1970, as
    // `email.utils.formatdate` does.
    match chrono::DateTime::from_timestamp(epoch_secs, 0) {
        Some(dt) => dt.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn value_cookie(value: &str) -> String {
        SetCookie {
            name: "v".into(),
            value: value.into(),
            path: "/".into(),
            ..SetCookie::default()
        }
        .render()
    }

    // Expected values below: Django 5.2.19 (Python 3.12.1) and 3.2.25 (Python
    // 3.10.13), identical: `HttpResponse().set_cookie(...)` then
    // `response.cookies[name].OutputString()` under a mocked `time.time`.
    #[test]
    fn verified_set_cookie_strings() {
        let now = 1_764_499_083; // time.time() = 1764499083.75
        let session = SetCookie {
            httponly: true,
            samesite: Some("Lax".into()),
            ..SetCookie::with_max_age(
                "sessionid",
                "7bxghqsmzqntxvvjwxgmp73i3wnemi1p",
                1_209_600,
                now,
            )
        };
        assert_eq!(
            session.render(),
            "sessionid=7bxghqsmzqntxvvjwxgmp73i3wnemi1p; expires=Sun, 14 Dec 2025 10:38:03 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax"
        );
        let csrf = SetCookie {
            samesite: Some("Lax".into()),
            ..SetCookie::with_max_age(
                "csrftoken",
                "TqPvRV5tFvPK9KVASg6x7Ci4pWu8aGEs",
                31_449_600,
                now,
            )
        };
        assert_eq!(
            csrf.render(),
            "csrftoken=TqPvRV5tFvPK9KVASg6x7Ci4pWu8aGEs; expires=Sun, 29 Nov 2026 10:38:03 GMT; Max-Age=31449600; Path=/; SameSite=Lax"
        );
        // DJANGO_INTERNALS §4.8 strings (the expires dates are Django's own).
        let doc = SetCookie {
            httponly: true,
            samesite: Some("Lax".into()),
            ..SetCookie::with_max_age(
                "sessionid",
                "7bxghqsmzqntxvvjwxgmp73i3wnemi1p",
                1_209_600,
                1_796_815_083 - 1_209_600,
            )
        };
        assert_eq!(
            doc.render(),
            "sessionid=7bxghqsmzqntxvvjwxgmp73i3wnemi1p; expires=Wed, 09 Dec 2026 11:18:03 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax"
        );
        let doc_csrf = SetCookie {
            samesite: Some("Lax".into()),
            ..SetCookie::with_max_age(
                "csrftoken",
                "TqPvRV5tFvPK9KVASg6x7Ci4pWu8aGEs",
                31_449_600,
                1_827_054_970 - 31_449_600,
            )
        };
        assert_eq!(
            doc_csrf.render(),
            "csrftoken=TqPvRV5tFvPK9KVASg6x7Ci4pWu8aGEs; expires=Wed, 24 Nov 2027 11:16:10 GMT; Max-Age=31449600; Path=/; SameSite=Lax"
        );
    }

    #[test]
    fn deletion_cookies() {
        assert_eq!(
            SetCookie::deletion("sessionid", Some("Lax")).render(),
            "sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax"
        );
        assert_eq!(
            SetCookie::deletion("__Secure-x", None).render(),
            "__Secure-x=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure"
        );
        assert_eq!(
            SetCookie::deletion("nn", Some("None")).render(),
            "nn=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=None; Secure"
        );
    }

    #[test]
    fn attributes_and_defaults() {
        let plain = SetCookie {
            name: "plain".into(),
            value: "v".into(),
            path: "/".into(),
            ..SetCookie::default()
        };
        assert_eq!(plain.render(), "plain=v; Path=/");
        // set_cookie('dom', 'v', domain='.example.com', secure=True, path='/x',
        //            samesite='None', httponly=True)
        let dom = SetCookie {
            name: "dom".into(),
            value: "v".into(),
            path: "/x".into(),
            domain: Some(".example.com".into()),
            secure: true,
            httponly: true,
            samesite: Some("None".into()),
            ..SetCookie::default()
        };
        assert_eq!(
            dom.render(),
            "dom=v; Domain=.example.com; HttpOnly; Path=/x; SameSite=None; Secure"
        );
        // set_cookie('nopath', 'v', path='')
        let nopath = SetCookie {
            name: "nopath".into(),
            value: "v".into(),
            ..SetCookie::default()
        };
        assert_eq!(nopath.render(), "nopath=v");
    }

    #[test]
    fn python_value_quoting() {
        // set_cookie('v', value) → OutputString()
        for (value, expected) in [
            ("", r#"v=""; Path=/"#),
            ("a b", r#"v="a b"; Path=/"#),
            ("a\"b", r#"v="a\"b"; Path=/"#),
            ("a,b", r#"v="a\054b"; Path=/"#),
            ("a;b", r#"v="a\073b"; Path=/"#),
            ("a\\b", r#"v="a\\b"; Path=/"#),
            ("caf\u{e9}", r#"v="caf\351"; Path=/"#),
            ("\u{20ac}", "v=\"\u{20ac}\"; Path=/"),
            ("tab\there", r#"v="tab\011here"; Path=/"#),
            ("x=y", r#"v="x=y"; Path=/"#),
            ("!#$%&'*+-.^_`|~:", "v=!#$%&'*+-.^_`|~:; Path=/"),
            ("()/<=>?@[]{}", r#"v="()/<=>?@[]{}"; Path=/"#),
            ("\u{0}\u{7f}", r#"v="\000\177"; Path=/"#),
            (
                "e30:1r31eq:_F3okiP-noHBD",
                "v=e30:1r31eq:_F3okiP-noHBD; Path=/",
            ),
            (".eJxV-_", "v=.eJxV-_; Path=/"),
        ] {
            assert_eq!(value_cookie(value), expected, "{value:?}");
        }
    }

    #[test]
    fn http_dates() {
        // django.utils.http.http_date(t)
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_764_499_083), "Sun, 30 Nov 2025 10:38:03 GMT");
        assert_eq!(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(http_date(253_402_300_799), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn django_parse_cookie() {
        // django.http.cookie.parse_cookie(h) (3.2.25 and 5.2.19 agree)
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("a=1; b=2", &[("a", "1"), ("b", "2")]),
            ("a=1; a=2", &[("a", "2")]),
            ("sessionid=abc; sessionid=def", &[("sessionid", "def")]),
            ("novalue; x=1", &[("", "novalue"), ("x", "1")]),
            ("x=1; novalue", &[("x", "1"), ("", "novalue")]),
            ("=v; k=", &[("", "v"), ("k", "")]),
            ("k=\"quoted value\"", &[("k", "quoted value")]),
            (
                r#"k="a\"b\\c\054d\073e\351f""#,
                &[("k", "a\"b\\c,d;e\u{e9}f")],
            ),
            (r#"k="\400""#, &[("k", "400")]),
            (r#"k="\0123""#, &[("k", "\n3")]),
            ("k=\"a\\", &[("k", "\"a\\")]),
            ("k=\"", &[("k", "\"")]),
            ("k=\"\"", &[("k", "")]),
            ("k=\"abc", &[("k", "\"abc")]),
            ("  k  =  v w  ; ;;", &[("k", "v w")]),
            ("k=a=b=c", &[("k", "a=b=c")]),
            ("\u{1c}k\u{1c}=\u{1c}v\u{1c}", &[("k", "v")]),
            ("\u{a0}k=v\u{a0}", &[("k", "v")]),
            ("\u{2003}k=v", &[("k", "v")]),
            ("k=\"\\\n\"", &[("k", "\\\n")]),
            (r#"k="\x""#, &[("k", "x")]),
            (r#"k="\3""#, &[("k", "3")]),
            (r#"k="\777""#, &[("k", "777")]),
            (r#"k="\\012""#, &[("k", "\\012")]),
            ("", &[]),
            (";", &[]),
            ("a=1;b", &[("a", "1"), ("", "b")]),
            (" = ", &[]),
            (r#"k="\""#, &[("k", "\\")]),
            ("\u{3000}k=v", &[("k", "v")]),
            ("\u{85}k=v\u{85}", &[("k", "v")]),
            (r#"k="\012\"x""#, &[("k", "\n\"x")]),
        ];
        for (header, expected) in cases {
            assert_eq!(parse_cookie(header), parsed(expected), "{header:?}");
        }
    }
}
