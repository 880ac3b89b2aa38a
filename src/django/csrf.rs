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
    /// Django raised instead of refusing, and the exception left Django:
    /// the WSGI server answers with its own 500 page.
    pub escapes: bool,
}

pub const REASON_NO_CSRF_COOKIE: &str = "CSRF cookie not set.";
pub const REASON_NO_REFERER: &str = "Referer checking failed - no Referer.";

impl Reject {
    fn new(reason: impl Into<String>) -> Self {
        Reject {
            reason: reason.into(),
            escapes: false,
        }
    }

    fn escaping(reason: impl Into<String>) -> Self {
        Reject {
            reason: reason.into(),
            escapes: true,
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
    /// 4.2+ `process_request` raised (a session token it cannot unmask):
    /// every request fails outside Django.
    pub raised: bool,
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
            raised: false,
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

/// `process_request` with `CSRF_USE_SESSIONS`: the session's `_csrftoken`,
/// with no format check; 4.2+ unmask a 64-character (pre-4.0) token, 3.2
/// keeps its masked token as is.
pub fn process_request_session(version: DjangoVersion, stored: Option<&str>) -> CsrfState {
    let Some(t) = stored else {
        return CsrfState::default();
    };
    if version == DjangoVersion::V3_2 || t.chars().count() != token::CSRF_TOKEN_LENGTH {
        return CsrfState {
            secret: Some(t.to_owned()),
            ..Default::default()
        };
    }
    match token::unmask_unchecked(t) {
        Ok(secret) => CsrfState {
            secret: Some(secret),
            ..Default::default()
        },
        Err(token::UnmaskError) => CsrfState {
            raised: true,
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
    pub referer: Option<&'a str>,
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
    // 4.0+ check the Referer only without Origin; 3.2 knows no Origin.
    if let Some(origin) = req.origin.filter(|_| version.is_4_or_later()) {
        if !origin_verified(trusted_origins, origin, req) {
            return Err(Reject::new(format!(
                "Origin checking failed - {origin} does not match any trusted origins."
            )));
        }
    } else if req.is_secure {
        check_referer(version, trusted_origins, req)?;
    }
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

/// `_check_referer` (the HTTPS Referer rule), with CSRF_COOKIE_DOMAIN unset:
/// the Referer must be https and on the request's host or a trusted one.
fn check_referer(
    version: DjangoVersion,
    trusted: &[String],
    req: &RequestFacts<'_>,
) -> Result<(), Reject> {
    const MALFORMED: &str = "Referer checking failed - Referer is malformed.";
    let Some(referer) = req.referer else {
        return Err(Reject::new(REASON_NO_REFERER));
    };
    // urlsplit drops tabs and newlines, and refuses unbalanced brackets.
    let referer: String = referer
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let (scheme, netloc) = urlsplit_scheme_netloc(&referer);
    if netloc.contains('[') != netloc.contains(']') {
        // urlsplit raises "Invalid IPv6 URL": 4.0+ refuse; 3.2 does not
        // catch it, and the exception leaves Django.
        return Err(if version.is_4_or_later() {
            Reject::new(MALFORMED)
        } else {
            Reject::escaping("ValueError: Invalid IPv6 URL")
        });
    }
    if scheme.is_empty() || netloc.is_empty() {
        return Err(Reject::new(MALFORMED));
    }
    if scheme != "https" {
        return Err(Reject::new(
            "Referer checking failed - Referer is insecure while host is secure.",
        ));
    }
    // 4.0+: CSRF_TRUSTED_ORIGINS are origins, their netloc without a leading
    // `*`; 3.2: they are host patterns already.
    let trusted_hosts: Vec<String> = if version.is_4_or_later() {
        trusted
            .iter()
            .map(|t| {
                urlsplit_scheme_netloc(t)
                    .1
                    .trim_start_matches('*')
                    .to_owned()
            })
            .collect()
    } else {
        trusted.to_vec()
    };
    let good = trusted_hosts
        .iter()
        .map(String::as_str)
        .chain(req.host)
        .any(|host| is_same_domain(&netloc, host));
    if good {
        Ok(())
    } else {
        Err(Reject::new(format!(
            "Referer checking failed - {referer} does not match any trusted origins."
        )))
    }
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
        // `_sanitize_token` swaps a bad token for a random (valid) one.
        let given =
            token::sanitize_3_2(given).unwrap_or_else(|| token::mask(&token::random_secret()));
        // Cookie secrets were sanitised; a session's is unmasked unchecked.
        return match token::masked_tokens_match_3_2(&given, secret) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Reject::new("CSRF token missing or incorrect.")),
            Err(token::UnmaskError) => Err(Reject::escaping("ValueError in _unmask_cipher_token")),
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
            referer: None,
            host: Some("example.com"),
            is_secure: false,
        }
    }

    #[test]
    fn https_referer_rule() {
        let st = process_request(
            DjangoVersion::V5_2,
            Some("abcdefghijklmnopqrstuvwxyzABCDEF"),
        );
        let secure = |referer: Option<&'static str>| RequestFacts {
            referer,
            is_secure: true,
            ..facts(None)
        };
        let reason = |v, trusted: &[String], referer| {
            before_body(v, trusted, &st, &secure(referer))
                .err()
                .map(|r| r.reason)
        };
        let v = DjangoVersion::V5_2;
        assert_eq!(reason(v, &[], None).as_deref(), Some(REASON_NO_REFERER));
        assert_eq!(
            reason(v, &[], Some("example.com/x")).as_deref(),
            Some("Referer checking failed - Referer is malformed.")
        );
        assert_eq!(
            reason(v, &[], Some("http://example.com/")).as_deref(),
            Some("Referer checking failed - Referer is insecure while host is secure.")
        );
        assert_eq!(reason(v, &[], Some("https://example.com/page")), None);
        assert!(reason(v, &[], Some("https://evil.com/")).is_some());
        let trusted = vec!["https://*.trusted.example".to_string()];
        assert_eq!(
            reason(v, &trusted, Some("https://a.trusted.example/")),
            None
        );
        // 3.2: CSRF_TRUSTED_ORIGINS are host patterns.
        let hosts = vec![".trusted.example".to_string()];
        assert_eq!(
            reason(
                DjangoVersion::V3_2,
                &hosts,
                Some("https://a.trusted.example/")
            ),
            None
        );
        // With an Origin header 4.0+ check that instead.
        let with_origin = RequestFacts {
            origin: Some("http://example.com"),
            ..secure(None)
        };
        assert!(before_body(v, &[], &st, &with_origin).is_err());
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
