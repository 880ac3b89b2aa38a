//! `CsrfViewMiddleware` decisions (`django/middleware/csrf.py`), split at the
//! point where Django reads `request.POST`: everything before the body is
//! parsed (`before_body`), then the token check (`check_token`).

use super::csrf_token as token;
use super::host::is_same_domain;
use super::pages::CsrfFailure;
use super::DjangoVersion;

/// A refusal: the log reason and which 403 page it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub reason: String,
}

pub const REASON_NO_CSRF_COOKIE: &str = "CSRF cookie not set.";
pub const REASON_NO_REFERER: &str = "Referer checking failed - no Referer.";

impl Reject {
    fn new(reason: impl Into<String>) -> Self {
        Reject {
            reason: reason.into(),
        }
    }

    /// `csrf_failure` chooses the template paragraph by the exact reason.
    pub fn page(&self) -> CsrfFailure {
        match self.reason.as_str() {
            REASON_NO_CSRF_COOKIE => CsrfFailure::NoCookie,
            REASON_NO_REFERER => CsrfFailure::NoReferer,
            _ => CsrfFailure::Generic,
        }
    }
}

/// What `process_request` learned from the cookie.
#[derive(Debug, Clone, Default)]
pub struct CsrfState {
    /// The secret to compare against (3.2: a masked 64-char token).
    pub secret: Option<String>,
    /// 4.2+: the cookie was malformed; this new secret is set on the response.
    pub new_cookie: Option<String>,
    /// 4.2+: the reason the cookie is malformed (refuses the request).
    pub malformed: Option<&'static str>,
}

/// `process_request`: read the CSRF cookie.
pub fn process_request(version: DjangoVersion, cookie: Option<&str>) -> CsrfState {
    let Some(cookie) = cookie else {
        return CsrfState::default();
    };
    if version == DjangoVersion::V3_2 {
        // 3.2 `_get_token`: a bad cookie is silently replaced by a random
        // token (never written back for these views), so parsing goes on.
        let secret =
            token::sanitize_3_2(cookie).unwrap_or_else(|| token::mask(&token::random_secret()));
        return CsrfState {
            secret: Some(secret),
            ..Default::default()
        };
    }
    match format_error(cookie) {
        Some(reason) => CsrfState {
            secret: None,
            new_cookie: Some(token::random_secret()),
            malformed: Some(reason),
        },
        None => CsrfState {
            secret: Some(if cookie.len() == token::CSRF_TOKEN_LENGTH {
                token::unmask(cookie)
            } else {
                cookie.to_owned()
            }),
            ..Default::default()
        },
    }
}

/// `_check_token_format`'s reason, or None when well formed.
fn format_error(t: &str) -> Option<&'static str> {
    if t.len() != token::CSRF_TOKEN_LENGTH && t.len() != token::CSRF_SECRET_LENGTH {
        Some("has incorrect length")
    } else if !token::is_well_formed(t) {
        Some("has invalid characters")
    } else {
        None
    }
}

pub struct RequestFacts<'a> {
    pub method: &'a str,
    pub origin: Option<&'a str>,
    /// The allowed raw Host (`get_host()`), if any.
    pub host: Option<&'a str>,
    pub is_secure: bool,
}

/// Methods `process_view` lets through unchecked.
pub fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// `process_view` up to reading `request.POST`: Origin (4.2+), and the cookie.
pub fn before_body(
    version: DjangoVersion,
    trusted_origins: &[String],
    state: &CsrfState,
    req: &RequestFacts<'_>,
) -> Result<(), Reject> {
    if version.is_4_or_later() {
        if let Some(origin) = req.origin {
            if !origin_verified(trusted_origins, origin, req) {
                return Err(Reject::new(format!(
                    "Origin checking failed - {origin} does not match any trusted origins."
                )));
            }
        }
    }
    // The HTTPS Referer rule needs SECURE_PROXY_SSL_HEADER; plain HTTP never checks it.
    if let Some(reason) = state.malformed {
        return Err(Reject::new(format!("CSRF cookie {reason}.")));
    }
    if state.secret.is_none() {
        return Err(Reject::new(REASON_NO_CSRF_COOKIE));
    }
    Ok(())
}

/// `_origin_verified` (4.2+).
fn origin_verified(trusted: &[String], origin: &str, req: &RequestFacts<'_>) -> bool {
    if let Some(host) = req.host {
        let scheme = if req.is_secure { "https" } else { "http" };
        if origin == format!("{scheme}://{host}") {
            return true;
        }
    }
    if trusted.iter().any(|t| !t.contains('*') && t == origin) {
        return true;
    }
    let (scheme, netloc) = urlsplit_scheme_netloc(origin);
    trusted.iter().filter(|t| t.contains('*')).any(|t| {
        let (ts, tn) = urlsplit_scheme_netloc(t);
        ts == scheme && is_same_domain(&netloc, tn.trim_start_matches('*'))
    })
}

/// The scheme and netloc of `urllib.parse.urlsplit`.
fn urlsplit_scheme_netloc(url: &str) -> (String, String) {
    let (scheme, rest) = match url.split_once(':') {
        Some((s, r))
            if !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s.to_ascii_lowercase(), r)
        }
        _ => (String::new(), url),
    };
    let netloc = match rest.strip_prefix("//") {
        Some(r) => r.split(['/', '?', '#']).next().unwrap_or("").to_owned(),
        None => String::new(),
    };
    (scheme, netloc)
}

/// `_check_token` after `request.POST` was read. `post_token` is
/// `request.POST.get('csrfmiddlewaretoken', '')` (always "" for non-POST),
/// `header_token` the CSRF header if sent.
pub fn check_token(
    version: DjangoVersion,
    header_name: &str,
    state: &CsrfState,
    post_token: &str,
    header_token: Option<&str>,
) -> Result<(), Reject> {
    let secret = state
        .secret
        .as_deref()
        .ok_or_else(|| Reject::new(REASON_NO_CSRF_COOKIE))?;
    if version == DjangoVersion::V3_2 {
        let given = if post_token.is_empty() {
            header_token.unwrap_or("")
        } else {
            post_token
        };
        return match token::sanitize_3_2(given) {
            Some(t) if token::masked_tokens_match_3_2(&t, secret) => Ok(()),
            _ => Err(Reject::new("CSRF token missing or incorrect.")),
        };
    }
    let (given, source) = if post_token.is_empty() {
        match header_token {
            Some(h) => (h, Source::Header),
            None => return Err(Reject::new("CSRF token missing.")),
        }
    } else {
        (post_token, Source::Post)
    };
    let describe = |what: &str| match source {
        Source::Post => format!("CSRF token from POST {what}."),
        Source::Header => format!(
            "CSRF token from the '{}' HTTP header {what}.",
            header_display(header_name)
        ),
    };
    if let Some(reason) = format_error(given) {
        return Err(Reject::new(describe(reason)));
    }
    if !token::token_matches(given, secret) {
        return Err(Reject::new(describe("incorrect")));
    }
    Ok(())
}

enum Source {
    Post,
    Header,
}

/// `HttpHeaders.parse_header_name`: `x-csrftoken` → `X-Csrftoken`.
fn header_display(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(origin: Option<&'a str>) -> RequestFacts<'a> {
        RequestFacts {
            method: "POST",
            origin,
            host: Some("example.com"),
            is_secure: false,
        }
    }

    #[test]
    fn origin_rules() {
        let st = process_request(
            DjangoVersion::V5_2,
            Some("abcdefghijklmnopqrstuvwxyzABCDEF"),
        );
        let v = DjangoVersion::V5_2;
        assert!(before_body(v, &[], &st, &facts(Some("http://example.com"))).is_ok());
        assert!(before_body(v, &[], &st, &facts(Some("http://evil.com"))).is_err());
        // 3.2 has no Origin check at all.
        let st32 = process_request(
            DjangoVersion::V3_2,
            Some("abcdefghijklmnopqrstuvwxyzABCDEF"),
        );
        assert!(before_body(
            DjangoVersion::V3_2,
            &[],
            &st32,
            &facts(Some("http://evil.com"))
        )
        .is_ok());
        let trusted = vec!["https://*.example.com".to_string()];
        let f = RequestFacts {
            host: Some("other"),
            ..facts(Some("https://sub.example.com"))
        };
        assert!(before_body(v, &trusted, &st, &f).is_ok());
        let f = RequestFacts {
            host: Some("other"),
            ..facts(Some("https://sub.example.com:8443"))
        };
        assert!(before_body(v, &trusted, &st, &f).is_err());
    }

    #[test]
    fn cookie_and_token_reasons() {
        let v = DjangoVersion::V5_2;
        let none = process_request(v, None);
        assert_eq!(
            before_body(v, &[], &none, &facts(None)).unwrap_err().page(),
            CsrfFailure::NoCookie
        );
        let bad = process_request(v, Some("abc"));
        assert!(bad.new_cookie.is_some());
        assert_eq!(
            before_body(v, &[], &bad, &facts(None)).unwrap_err().reason,
            "CSRF cookie has incorrect length."
        );
        let secret = "abcdefghijklmnopqrstuvwxyzABCDEF";
        let good = process_request(v, Some(secret));
        assert!(check_token(v, "x-csrftoken", &good, secret, None).is_ok());
        assert!(check_token(v, "x-csrftoken", &good, "", Some(&token::mask(secret))).is_ok());
        assert_eq!(
            check_token(v, "x-csrftoken", &good, "", None)
                .unwrap_err()
                .reason,
            "CSRF token missing."
        );
        assert_eq!(
            check_token(v, "x-csrftoken", &good, "", Some(""))
                .unwrap_err()
                .reason,
            "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
        );
        assert_eq!(
            check_token(
                v,
                "x-csrftoken",
                &good,
                "bcdefghijklmnopqrstuvwxyzABCDEFa",
                None
            )
            .unwrap_err()
            .reason,
            "CSRF token from POST incorrect."
        );
    }
}
