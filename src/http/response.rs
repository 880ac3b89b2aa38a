//! Responses as they leave Django: the view's (or an error page's) status,
//! body and headers, then what each `startproject` middleware adds on the way
//! out, in their order (XFrame → Csrf → Common → Session → Security).

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

use crate::django::cookies::SetCookie;
use crate::django::{json, pages, DjangoVersion};

/// What the view (or the exception handler) produced, before middleware.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
    /// Made by one of Django's error-page views (400, 404, 500), which wear
    /// `requires_csrf_token`: a malformed CSRF cookie is renewed inside the
    /// view, so its `Vary` comes straight after Content-Type.
    pub csrf_in_view: bool,
}

impl Reply {
    /// `chunked_upload.response.Response`: DjangoJSONEncoder, the configured
    /// content type exactly as given (no charset).
    pub fn json(status: u16, content_type: &str, value: &Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).expect("valid status"),
            headers: vec![("Content-Type", content_type.to_owned())],
            body: Bytes::from(json::dumps(value, false)),
            ..Default::default()
        }
    }

    /// `ChunkedUploadError(status, detail=…)`.
    pub fn detail(status: u16, content_type: &str, detail: &str) -> Reply {
        Reply::json(
            status,
            content_type,
            &serde_json::json!({ "detail": detail }),
        )
    }

    fn page(status: StatusCode, version: DjangoVersion, body: &'static [u8]) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", pages::html_content_type(version).to_owned())],
            body: Bytes::from_static(body),
            ..Default::default()
        }
    }

    pub fn not_found(version: DjangoVersion) -> Reply {
        Reply {
            csrf_in_view: true,
            ..Reply::page(StatusCode::NOT_FOUND, version, pages::NOT_FOUND)
        }
    }

    pub fn bad_request(version: DjangoVersion) -> Reply {
        Reply {
            csrf_in_view: true,
            ..Reply::page(StatusCode::BAD_REQUEST, version, pages::BAD_REQUEST)
        }
    }

    pub fn server_error(version: DjangoVersion) -> Reply {
        Reply {
            csrf_in_view: true,
            ..Reply::page(
                StatusCode::INTERNAL_SERVER_ERROR,
                version,
                pages::SERVER_ERROR,
            )
        }
    }

    /// `csrf_failure` (3.2 passes `content_type='text/html'` itself).
    pub fn csrf_forbidden(version: DjangoVersion, kind: pages::CsrfFailure) -> Reply {
        Reply::page(
            StatusCode::FORBIDDEN,
            version,
            pages::csrf_403(version, kind),
        )
    }

    /// `View.http_method_not_allowed`: `HttpResponseNotAllowed` (always with charset).
    pub fn method_not_allowed() -> Reply {
        Reply {
            status: StatusCode::METHOD_NOT_ALLOWED,
            headers: vec![
                ("Content-Type", "text/html; charset=utf-8".into()),
                ("Allow", "POST, OPTIONS".into()),
            ],
            body: Bytes::new(),
            ..Default::default()
        }
    }

    /// gunicorn's own page (`util.write_error`) for an exception that
    /// escaped Django: the reference deployment runs Django under gunicorn.
    pub fn wsgi_server_error() -> Reply {
        const BODY: &[u8] = b"<html>\n  <head>\n    <title>Internal Server Error</title>\n  </head>\n  <body>\n    <h1><p>Internal Server Error</p></h1>\n    \n  </body>\n</html>\n";
        Reply {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            headers: vec![
                ("Connection", "close".into()),
                ("Content-Type", "text/html".into()),
                ("Content-Length", BODY.len().to_string()),
            ],
            body: Bytes::from_static(BODY),
            ..Default::default()
        }
    }

    /// CommonMiddleware's APPEND_SLASH `HttpResponsePermanentRedirect`.
    pub fn permanent_redirect(location: &str) -> Reply {
        Reply {
            status: StatusCode::MOVED_PERMANENTLY,
            headers: vec![
                ("Content-Type", "text/html; charset=utf-8".into()),
                ("Location", location.to_owned()),
            ],
            body: Bytes::new(),
            ..Default::default()
        }
    }

    /// `View.options`: the view itself sets Content-Length.
    pub fn options() -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: vec![
                ("Content-Type", "text/html; charset=utf-8".into()),
                ("Allow", "POST, OPTIONS".into()),
                ("Content-Length", "0".into()),
            ],
            body: Bytes::new(),
            ..Default::default()
        }
    }
}

/// Which middleware layers a response passes on its way out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Layers {
    /// Made by the view or URL resolution: every layer.
    #[default]
    All,
    /// Made by CommonMiddleware (the APPEND_SLASH redirect where its own
    /// `process_response` still adds Content-Length), then Session, Security.
    FromCommon,
    /// Only SessionMiddleware and SecurityMiddleware (DisallowedHost, and
    /// the redirect that 4.2/5.2 return from `process_response` as is).
    Outer,
    /// None: an exception left Django and the WSGI server answered.
    Server,
}

/// What the middleware layers contribute on the way out.
#[derive(Debug, Default)]
pub struct Outgoing {
    pub layers: Layers,
    /// CsrfViewMiddleware: a new CSRF cookie (4.2+, malformed cookie).
    pub csrf_cookie: Option<SetCookie>,
    /// SessionMiddleware: patch `Vary: Cookie`.
    pub session_vary: bool,
    pub session_cookie: Option<SetCookie>,
}

pub fn finish(reply: Reply, mut out: Outgoing, version: DjangoVersion) -> Response {
    if out.layers == Layers::Server {
        out = Outgoing {
            layers: Layers::Server,
            ..Default::default()
        };
    }
    let mut headers: Vec<(&'static str, String)> = reply.headers;
    let has =
        |h: &Vec<(&'static str, String)>, n: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    let mut cookies = Vec::new();
    if out.layers == Layers::FromCommon && !has(&headers, "Content-Length") {
        headers.push(("Content-Length", reply.body.len().to_string()));
    }
    // A cookie renewed by the error-page view itself; Csrf.process_response
    // afterwards finds Vary already there.
    if reply.csrf_in_view {
        if let Some(c) = out.csrf_cookie.take() {
            headers.insert(1, ("Vary", "Cookie".into()));
            cookies.push(c);
        }
    }
    if out.layers == Layers::All {
        if !has(&headers, "X-Frame-Options") {
            headers.push(("X-Frame-Options", "DENY".into()));
        }
        if let Some(c) = out.csrf_cookie {
            headers.push(("Vary", "Cookie".into()));
            cookies.push(c);
        }
        if !has(&headers, "Content-Length") {
            headers.push(("Content-Length", reply.body.len().to_string()));
        }
    }
    if out.session_vary && !has(&headers, "Vary") {
        headers.push(("Vary", "Cookie".into()));
    }
    if let Some(c) = out.session_cookie {
        cookies.push(c);
    }
    if out.layers != Layers::Server {
        headers.push(("X-Content-Type-Options", "nosniff".into()));
        headers.push(("Referrer-Policy", "same-origin".into()));
        if version.is_4_or_later() {
            headers.push(("Cross-Origin-Opener-Policy", "same-origin".into()));
        }
    }
    let sized = has(&headers, "Content-Length");
    // Without Content-Length Django's response goes out chunked; so does ours.
    // hyper re-adds `Content-Length: 0` of an empty full body after the
    // other headers; a stream body keeps ours where Django puts it.
    let body = if sized && !reply.body.is_empty() {
        Body::from(reply.body)
    } else {
        let b = reply.body;
        Body::from_stream(futures_util::stream::once(
            async move { Ok::<_, Infallible>(b) },
        ))
    };
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    let map = response.headers_mut();
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.append(n, v);
        }
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c.render()) {
            map.append(axum::http::header::SET_COOKIE, v);
        }
    }
    response
}
