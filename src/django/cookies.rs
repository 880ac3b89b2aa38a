//! Cookie parsing as `django.http.cookie.parse_cookie`, and Set-Cookie values
//! rendered as Python's `http.cookies.Morsel.OutputString`.
//! STUB: interface fixed; implementation pending.

use std::collections::HashMap;

/// `parse_cookie(header)`: split on `;`, first `=`, strip, `_unquote`; last wins.
pub fn parse_cookie(_header: &str) -> HashMap<String, String> {
    todo!()
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

impl SetCookie {
    /// `Morsel.OutputString()`: `name=value` (quoted as Python quotes it),
    /// then attributes sorted: Domain?, expires, HttpOnly, Max-Age, Path,
    /// SameSite, Secure.
    pub fn render(&self) -> String {
        todo!()
    }

    /// `HttpResponse.set_cookie(name, value, max_age=…)` as Django computes
    /// `expires` from `max_age` at `now` (unix seconds).
    pub fn with_max_age(_name: &str, _value: &str, _max_age: i64, _now: i64) -> SetCookie {
        todo!()
    }

    /// `HttpResponse.delete_cookie(name, path, domain, samesite)`.
    pub fn deletion(_name: &str, _samesite: Option<&str>) -> SetCookie {
        todo!()
    }
}

/// `django.utils.http.http_date`: `Wed, 09 Dec 2026 11:18:03 GMT`.
pub fn http_date(_epoch_secs: i64) -> String {
    todo!()
}
