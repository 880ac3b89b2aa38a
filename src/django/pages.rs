//! Django's own HTML bodies (DEBUG=False, no custom templates).
//! STUB: interface fixed; implementation pending.

use super::DjangoVersion;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsrfFailure {
    /// reason == "CSRF cookie not set."
    NoCookie,
    /// reason == "Referer checking failed - no Referer."
    NoReferer,
    Generic,
}

/// `views/csrf.py csrf_failure` body for the version.
pub fn csrf_403(_version: DjangoVersion, _kind: CsrfFailure) -> &'static [u8] {
    todo!()
}

pub const NOT_FOUND: &[u8] = b"";
pub const BAD_REQUEST: &[u8] = b"";
pub const SERVER_ERROR: &[u8] = b"";

/// Content type of the 400/403/404/500 pages: `text/html` on 3.2, with
/// `; charset=utf-8` on 4.2+.
pub fn html_content_type(_version: DjangoVersion) -> &'static str {
    todo!()
}
