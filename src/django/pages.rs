//! Django's own HTML bodies (DEBUG=False, no custom templates).
//!
//! The files under `pages/` are the bodies captured from each Django version
//! (copies of `shared/django-bodies/`).

use super::DjangoVersion;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrfFailure {
    /// reason == "CSRF cookie not set."
    NoCookie,
    /// reason == "Referer checking failed - no Referer."
    NoReferer,
    Generic,
}

impl CsrfFailure {
    /// The body variant `views/csrf.py csrf_failure` picks for a reason string.
    pub fn from_reason(reason: &str) -> CsrfFailure {
        match reason {
            "CSRF cookie not set." => CsrfFailure::NoCookie,
            "Referer checking failed - no Referer." => CsrfFailure::NoReferer,
            _ => CsrfFailure::Generic,
        }
    }
}

const CSRF_GENERIC_3_2_4_2: &[u8] = include_bytes!("pages/csrf403_generic_3.2_4.2.html");
const CSRF_NOCOOKIE_3_2_4_2: &[u8] = include_bytes!("pages/csrf403_nocookie_3.2_4.2.html");
/// 3.2 says "Web browser", 4.2 "web browser".
const CSRF_NOREFERER_3_2: &[u8] = include_bytes!("pages/csrf403_noreferer_3.2.html");
const CSRF_NOREFERER_4_2: &[u8] = include_bytes!("pages/csrf403_noreferer_4.2.html");
const CSRF_GENERIC_5_2_6_0: &[u8] = include_bytes!("pages/csrf403_generic_5.2_6.0.html");
const CSRF_NOCOOKIE_5_2_6_0: &[u8] = include_bytes!("pages/csrf403_nocookie_5.2_6.0.html");
const CSRF_NOREFERER_5_2_6_0: &[u8] = include_bytes!("pages/csrf403_noreferer_5.2_6.0.html");
/// 6.1 adds a `color-scheme` meta line and renders `<style >` (CSP nonce slot).
const CSRF_GENERIC_6_1: &[u8] = include_bytes!("pages/csrf403_generic_6.1.html");
const CSRF_NOCOOKIE_6_1: &[u8] = include_bytes!("pages/csrf403_nocookie_6.1.html");
const CSRF_NOREFERER_6_1: &[u8] = include_bytes!("pages/csrf403_noreferer_6.1.html");

/// `views/csrf.py csrf_failure` body for the version.
pub fn csrf_403(version: DjangoVersion, kind: CsrfFailure) -> &'static [u8] {
    use CsrfFailure::*;
    use DjangoVersion::*;
    match (version, kind) {
        (V3_2 | V4_2, Generic) => CSRF_GENERIC_3_2_4_2,
        (V3_2 | V4_2, NoCookie) => CSRF_NOCOOKIE_3_2_4_2,
        (V3_2, NoReferer) => CSRF_NOREFERER_3_2,
        (V4_2, NoReferer) => CSRF_NOREFERER_4_2,
        (V5_2 | V6_0, Generic) => CSRF_GENERIC_5_2_6_0,
        (V5_2 | V6_0, NoCookie) => CSRF_NOCOOKIE_5_2_6_0,
        (V5_2 | V6_0, NoReferer) => CSRF_NOREFERER_5_2_6_0,
        (V6_1, Generic) => CSRF_GENERIC_6_1,
        (V6_1, NoCookie) => CSRF_NOCOOKIE_6_1,
        (V6_1, NoReferer) => CSRF_NOREFERER_6_1,
    }
}

/// `views/defaults.py page_not_found` (the same bytes in every version).
pub const NOT_FOUND: &[u8] = include_bytes!("pages/404.html");
/// `views/defaults.py bad_request`.
pub const BAD_REQUEST: &[u8] = include_bytes!("pages/400.html");
/// `views/defaults.py server_error`.
pub const SERVER_ERROR: &[u8] = include_bytes!("pages/500.html");

/// Content type of the 400/403/404/500 pages: `text/html` on 3.2, with
/// `; charset=utf-8` on 4.2+.
pub fn html_content_type(version: DjangoVersion) -> &'static str {
    if version.is_4_or_later() {
        "text/html; charset=utf-8"
    } else {
        "text/html"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};
    use CsrfFailure::*;
    use DjangoVersion::*;

    fn sha256_hex(body: &[u8]) -> String {
        Sha256::digest(body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    // DJANGO_INTERNALS §3.6, re-checked with `csrf_failure(request, reason)`
    // in 3.2.25 and 5.2.19 (DEBUG=False).
    #[test]
    fn csrf_bodies_match_django_sha256() {
        let cases = [
            (
                V3_2,
                Generic,
                1019,
                "86251a26142cfed74337485c0d0014d84522f40ff262f3777ac868ffbce8e339",
            ),
            (
                V4_2,
                Generic,
                1019,
                "86251a26142cfed74337485c0d0014d84522f40ff262f3777ac868ffbce8e339",
            ),
            (
                V5_2,
                Generic,
                1004,
                "41888be6bf5e74168d7e52fccaf961789dd9242b35a262be2f1b3c36e4cce629",
            ),
            (
                V6_0,
                Generic,
                1004,
                "41888be6bf5e74168d7e52fccaf961789dd9242b35a262be2f1b3c36e4cce629",
            ),
            (
                V3_2,
                NoCookie,
                1382,
                "a486c5c5b8e287f472dfb6a791caaad49cf2c7dc2b27818a92951abdfa09e438",
            ),
            (
                V4_2,
                NoCookie,
                1382,
                "a486c5c5b8e287f472dfb6a791caaad49cf2c7dc2b27818a92951abdfa09e438",
            ),
            (
                V5_2,
                NoCookie,
                1367,
                "5f605387ee2a48a64734b723ed0ccb4b232943fb1883cb26c654f3b7314b2ed7",
            ),
            (
                V6_0,
                NoCookie,
                1367,
                "5f605387ee2a48a64734b723ed0ccb4b232943fb1883cb26c654f3b7314b2ed7",
            ),
            (
                V3_2,
                NoReferer,
                1867,
                "dbf9a87810777be36d58c4032e01b32c032cbe466fb56c65ad66eb2691562e81",
            ),
            (
                V4_2,
                NoReferer,
                1867,
                "0a21c554418c5c15a143969b3d8447b5d38e90a4185b1ed5bb1ffe0cc1ed9f50",
            ),
            (
                V5_2,
                NoReferer,
                1852,
                "d093ea2970fce2853bedb1f0f9675163c2952c1e3bbfd03396b98779064f9279",
            ),
            (
                V6_0,
                NoReferer,
                1852,
                "d093ea2970fce2853bedb1f0f9675163c2952c1e3bbfd03396b98779064f9279",
            ),
            // Captured from 6.1.3 (research notes, p7.py).
            (
                V6_1,
                Generic,
                1057,
                "aa4efd3436c574789136eb018c605eee45241505185dea5db4edfc5d44b5dc40",
            ),
            (
                V6_1,
                NoCookie,
                1420,
                "17f0ef5bc195645b8e38633ca7abfc9b000b54b15b9deb4e8cf39c45ff4ae2d6",
            ),
            (
                V6_1,
                NoReferer,
                1905,
                "1c3521679dd5d79968309e4b943722ac18bf43a2b35542aaf74de1f60f06a566",
            ),
        ];
        for (version, kind, len, sha) in cases {
            let body = csrf_403(version, kind);
            assert_eq!(body.len(), len, "{version} {kind:?}");
            assert_eq!(sha256_hex(body), sha, "{version} {kind:?}");
            assert!(body.ends_with(b"</html>\n"));
        }
        assert!(csrf_403(V3_2, Generic).starts_with(b"\n<!DOCTYPE html>"));
        assert!(csrf_403(V5_2, Generic).starts_with(b"<!DOCTYPE html>"));
    }

    #[test]
    fn error_pages() {
        assert_eq!(
            NOT_FOUND,
            b"\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
        );
        assert_eq!(
            BAD_REQUEST,
            b"\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n"
        );
        assert_eq!(
            SERVER_ERROR,
            b"\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
        );
        assert_eq!(
            sha256_hex(NOT_FOUND),
            "5547992afdadb59737c5c0feb1a35dff294cd27145bf290c031737ecf8a2577d"
        );
        assert_eq!(
            sha256_hex(BAD_REQUEST),
            "65b0d4aef304dcf46bffd8a20b46f7fc441e2ab0848ea3197caf713de1babb63"
        );
        assert_eq!(
            sha256_hex(SERVER_ERROR),
            "fd62a53afdd49595ccd111b6ac06466a1690e7c8da4aeb0e884b5e0f4e937624"
        );
    }

    #[test]
    fn content_types_and_reasons() {
        assert_eq!(html_content_type(V3_2), "text/html");
        for v in [V4_2, V5_2, V6_0, V6_1] {
            assert_eq!(html_content_type(v), "text/html; charset=utf-8");
        }
        assert_eq!(CsrfFailure::from_reason("CSRF cookie not set."), NoCookie);
        assert_eq!(
            CsrfFailure::from_reason("Referer checking failed - no Referer."),
            NoReferer
        );
        assert_eq!(CsrfFailure::from_reason("CSRF token missing."), Generic);
        assert_eq!(
            CsrfFailure::from_reason("CSRF token missing or incorrect."),
            Generic
        );
    }
}
