//! The HTTP side: one handler that walks a request through what Django's
//! `startproject` middleware and URLconf would do, then the two views.

mod complete;
mod conn;
pub mod response;
mod upload;

pub use conn::{LINGERING_TIME, LINGERING_TIMEOUT};
pub use upload::parse_content_range;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::config::{Compat, Permission, Settings};
use crate::django::cache::RedisCache;
use crate::django::cookies::{parse_cookie, SetCookie};
use crate::django::form::{self, BodyInfo, FormData, NoFiles};
use crate::django::multipart::{Limits, ParseError};
use crate::django::session::{self, Session, SessionError};
use crate::django::session_backends::SessionStore;
use crate::django::timezone::Clock;
use crate::django::{csrf, host, DjangoVersion};
use crate::store::db::{InspectError, UploadTable, UserRow, UserTable};
use crate::store::files::Storage;
use response::{finish, Layers, Outgoing, Reply};

pub struct App {
    pub settings: Settings,
    pub pool: PgPool,
    pub storage: Storage,
    /// The upload model's table.
    pub uploads: UploadTable,
    /// `SESSION_ENGINE` and the store behind it.
    pub sessions: SessionStore,
    pub stats: Stats,
    /// Whether `chunked_upload_md5_state` exists (`serve` creates it).
    pub md5_state: bool,
}

/// Counters for tests and operators.
#[derive(Debug, Default)]
pub struct Stats {
    /// Completions that had to read the whole file (no current md5 state).
    pub full_md5_reads: std::sync::atomic::AtomicU64,
}

impl App {
    /// The app as configured; `inspect_tables` then adapts it to the
    /// tables the database really has.
    pub fn new(settings: Settings, pool: PgPool) -> anyhow::Result<App> {
        let cache = match &settings.session_cache {
            Some(config) => Some(RedisCache::new(config.clone())?),
            None => None,
        };
        let sessions = SessionStore {
            engine: settings.session_engine,
            pool: pool.clone(),
            cache,
            file_dir: settings.session_file_path.clone(),
            cookie_name: settings.session_cookie_name.clone(),
            cookie_age: settings.session_cookie_age,
            signing_keys: settings
                .signing_keys()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            secret_key: settings.secret_key.clone(),
            version: settings.django_version,
            users: UserTable {
                table: settings.auth_user_table.clone(),
                has_is_active: true,
            },
        };
        let uploads = UploadTable::named(&settings.chunked_upload_table, &settings.user_field_name);
        let storage = Storage {
            media_root: settings.media_root.clone(),
            upload_path: settings.chunked_upload_path.clone(),
            time_zone: settings.time_zone,
            file_permissions: settings.file_upload_permissions,
            directory_permissions: settings.file_upload_directory_permissions,
            version: settings.django_version,
        };
        Ok(App {
            settings,
            pool,
            storage,
            uploads,
            sessions,
            stats: Stats::default(),
            md5_state: true,
        })
    }

    /// Which optional columns the upload and user tables have (a subclassed
    /// model without `user`, a custom user model without `is_active`).
    pub async fn inspect_tables(&mut self) -> Result<(), InspectError> {
        self.uploads = UploadTable::inspect(
            &self.pool,
            &self.settings.chunked_upload_table,
            &self.settings.user_field_name,
        )
        .await?;
        self.sessions.users =
            UserTable::inspect(&self.pool, &self.settings.auth_user_table).await?;
        Ok(())
    }

    fn version(&self) -> DjangoVersion {
        self.settings.django_version
    }

    /// Whether `_post` reads `request.user` (in `get_queryset` and where it
    /// builds a new upload): 2.0.0 always does with AuthenticationMiddleware;
    /// 2.1.0 only when `hasattr(self.model, self.user_field_name)`.
    fn view_reads_user(&self) -> bool {
        self.settings.auth_required
            && (self.settings.compat == Compat::Upstream || self.uploads.user_column.is_some())
    }

    /// The column a new upload records its logged-in user in: 2.1.0's
    /// `get_extra_attrs` sets `user_field_name`; 2.0.0's `_post` sets
    /// `attrs['user']` whatever the field name. None: the model has no such
    /// field, which in 2.0.0 is a TypeError (500) for a logged-in user.
    fn create_user_column(&self) -> Option<&str> {
        match self.settings.compat {
            Compat::Patched => self.uploads.user_column.as_deref(),
            Compat::Upstream => self.uploads.has_user_id.then_some("user_id"),
        }
    }

    /// Whether a logged-in user's upload lookup fails: 2.0.0 filters on
    /// `user_field_name` without asking the model (FieldError, 500).
    fn lookup_breaks_for_users(&self) -> bool {
        self.settings.compat == Compat::Upstream && self.uploads.user_column.is_none()
    }

    /// Whether a logged-in user's new upload fails (2.0.0's TypeError).
    fn create_breaks_for_users(&self) -> bool {
        self.view_reads_user() && self.create_user_column().is_none()
    }

    /// `USE_TZ` and `TIME_ZONE`, as the views see times.
    pub fn clock(&self) -> Clock {
        Clock {
            use_tz: self.settings.use_tz,
            time_zone: self.settings.time_zone,
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_memory_size: self.settings.data_upload_max_memory_size,
            max_number_fields: self.settings.data_upload_max_number_fields,
            max_number_files: self.settings.data_upload_max_number_files,
        }
    }
}

pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Upload,
    Complete,
}

/// Per-request state the views and the middleware share.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub session: Session,
    pub now: DateTime<Utc>,
    pub headers: &'a HeaderMap,
}

impl<'a> Ctx<'a> {
    /// `request.user` as the views evaluate it (`check_permissions`).
    async fn user(&mut self) -> Result<Option<UserRow>, Reply> {
        let app = self.app;
        match session::get_user(&mut self.session, &app.sessions, &app.settings, self.now).await {
            Ok(u) => Ok(u),
            Err(e) => {
                match e {
                    SessionError::InvalidUserId(_) => {
                        tracing::error!("{e}: Django raises ValidationError (500)")
                    }
                    SessionError::Db(_) | SessionError::Store(_) => {
                        tracing::error!("session lookup failed: {e}")
                    }
                }
                Err(Reply::server_error(app.version()))
            }
        }
    }

    /// `request.user` where `_post` reads it: the user's id, or None for
    /// AnonymousUser and for sites without AuthenticationMiddleware.
    /// Evaluating it runs `get_user` (which may flush the session) once;
    /// later reads get the same answer, as Django caches `request.user`.
    async fn request_user(&mut self) -> Result<Option<i64>, Reply> {
        if !self.app.settings.auth_required {
            return Ok(None);
        }
        Ok(self.user().await?.map(|u| u.id))
    }

    /// `get_queryset(request)`: the user the uploads are filtered to (None:
    /// no filter). The first point where the views may read `request.user`.
    async fn queryset_user(&mut self) -> Result<Option<i64>, Reply> {
        let app = self.app;
        if !app.view_reads_user() {
            return Ok(None);
        }
        let user = self.request_user().await?;
        if user.is_some() && app.lookup_breaks_for_users() {
            return Err(self.internal(
                "get_queryset",
                format_args!(
                    "the upload model has no field {:?}: 2.0.0's filter raises FieldError",
                    app.settings.user_field_name
                ),
            ));
        }
        Ok(user.filter(|_| app.uploads.user_column.is_some()))
    }

    /// The user a new upload is created for, and the column that records it
    /// (the create path's read of `request.user`).
    async fn creating_user(&mut self) -> Result<Option<(&'a str, i64)>, Reply> {
        let app: &'a App = self.app;
        if !app.view_reads_user() {
            return Ok(None);
        }
        let Some(user) = self.request_user().await? else {
            return Ok(None);
        };
        match app.create_user_column() {
            Some(column) => Ok(Some((column, user))),
            None => Err(self.internal(
                "create_chunked_upload",
                "the upload model has no field \"user\": 2.0.0's model(user=...) raises TypeError",
            )),
        }
    }

    fn json(&self, status: u16, value: &serde_json::Value) -> Reply {
        Reply::json(status, &self.app.settings.content_type, value)
    }

    fn detail(&self, status: u16, detail: &str) -> Reply {
        Reply::detail(status, &self.app.settings.content_type, detail)
    }

    fn internal(&self, what: &str, e: impl std::fmt::Display) -> Reply {
        tracing::error!("{what}: {e}");
        Reply::server_error(self.app.version())
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A header as WSGI hands it to Django: any bytes, decoded as latin-1.
fn header_latin1(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.as_bytes().iter().map(|&b| char::from(b)).collect())
}

/// `HTTP_COOKIE` as Django reads it: gunicorn joins repeated header lines
/// with `,` (`gunicorn.http.wsgi.create`), and `get_str_from_wsgi` decodes
/// the bytes as UTF-8 with `errors="replace"`. `parse_cookie` splits on `;`
/// only, so the last cookie of a line absorbs the first one of the next.
fn cookie_header(headers: &HeaderMap) -> String {
    let lines: Vec<&[u8]> = headers
        .get_all("cookie")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    String::from_utf8_lossy(&lines.join(&b","[..])).into_owned()
}

/// `HttpRequest._get_raw_host`: X-Forwarded-Host when trusted, else Host,
/// else (PEP 333) SERVER_NAME and the port, which a WSGI server takes from
/// the address it listens on: ours is LISTEN.
fn raw_host(settings: &Settings, headers: &HeaderMap) -> String {
    let forwarded = settings
        .use_x_forwarded_host
        .then(|| header_latin1(headers, "x-forwarded-host"))
        .flatten();
    if let Some(h) = forwarded.or_else(|| header_latin1(headers, "host")) {
        return h;
    }
    let server_name = settings.listen.ip().to_string();
    // `get_port()`: X-Forwarded-Port when trusted, else SERVER_PORT.
    let port = settings
        .use_x_forwarded_port
        .then(|| header(headers, "x-forwarded-port"))
        .flatten()
        .map(str::to_owned)
        .unwrap_or_else(|| settings.listen.port().to_string());
    let default_port = if is_secure(settings, headers) {
        "443"
    } else {
        "80"
    };
    if port == default_port {
        server_name
    } else {
        format!("{server_name}:{port}")
    }
}

/// `HttpRequest.is_secure()`: only SECURE_PROXY_SSL_HEADER can say so, as
/// the service itself speaks plain HTTP behind the site's proxy. 4.0+ reads
/// the first of comma-separated values.
fn is_secure(settings: &Settings, headers: &HeaderMap) -> bool {
    let Some((name, secure_value)) = &settings.secure_proxy_ssl_header else {
        return false;
    };
    let Some(value) = header(headers, name) else {
        return false;
    };
    if settings.django_version == DjangoVersion::V3_2 {
        value == secure_value
    } else {
        value.split(',').next().unwrap_or("").trim() == secure_value
    }
}

/// CsrfViewMiddleware's 403, or the WSGI server's 500 when Django raised.
fn csrf_refusal(version: DjangoVersion, r: &csrf::Reject, out: &mut Outgoing) -> Reply {
    if r.escapes {
        out.layers = Layers::Server;
        return Reply::wsgi_server_error();
    }
    Reply::csrf_forbidden(version, r.page())
}

/// `get_full_path_with_slash`: the path plus `/`, and the query string
/// through `iri_to_uri` (WSGI hands it over latin-1 decoded, so a raw byte
/// above 0x7f is quoted as the UTF-8 of that character).
fn with_slash(uri: &axum::http::Uri) -> String {
    const SAFE: &[u8] = b"/#%[]=:;$&()+,!?*@'~-._";
    let mut location = format!("{}/", uri.path());
    if let Some(q) = uri.query().filter(|q| !q.is_empty()) {
        location.push('?');
        for c in q.bytes().map(char::from) {
            if c.is_ascii_alphanumeric() || (c.is_ascii() && SAFE.contains(&(c as u8))) {
                location.push(c);
            } else {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    location.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    location
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let settings = &app.settings;
    let version = app.version();
    let cookies = parse_cookie(&cookie_header(&parts.headers));
    let mut ctx = Ctx {
        app: &app,
        session: Session::from_cookie(
            cookies
                .get(&settings.session_cookie_name)
                .map(String::as_str),
        ),
        now: Utc::now(),
        headers: &parts.headers,
    };
    let mut out = Outgoing::default();

    let method = parts.method.as_str();
    let reply = 'reply: {
        // CommonMiddleware.process_request: DisallowedHost.
        let raw_host = raw_host(settings, &parts.headers);
        let Some(good_host) = host::get_host(&raw_host, &settings.allowed_hosts) else {
            tracing::warn!("Invalid HTTP_HOST header: {raw_host:?}");
            out.layers = Layers::Outer;
            // The 400 view runs the CSRF middleware itself (requires_csrf_token).
            if !settings.csrf_use_sessions {
                let cookie = cookies.get(&settings.csrf_cookie_name).map(String::as_str);
                out.csrf_cookie = csrf::process_request(version, cookie)
                    .new_cookie
                    .map(|s| csrf_cookie(settings, &s, ctx.now));
            }
            break 'reply Reply::bad_request(version);
        };
        // The URLconf: `^api/chunked_upload/?$` as in the demo project, or
        // `path('api/chunked_upload/')` with TRAILING_SLASH=required.
        let path = parts.uri.path();
        let (bare, slash) = match path.strip_suffix('/') {
            Some(p) => (p, true),
            None => (path, false),
        };
        let view = if bare == settings.upload_url {
            Some(View::Upload)
        } else if bare == settings.complete_url {
            Some(View::Complete)
        } else {
            None
        };
        let redirect = match view {
            Some(_) if !slash && settings.trailing_slash_required => {
                settings.append_slash.then(|| with_slash(&parts.uri))
            }
            _ => None,
        };
        // 3.2 redirects in CommonMiddleware.process_request, before CSRF.
        if let (Some(location), DjangoVersion::V3_2) = (&redirect, version) {
            out.layers = Layers::FromCommon;
            break 'reply Reply::permanent_redirect(location);
        }
        // CsrfViewMiddleware.process_request: the secret from the cookie,
        // or from the session (which that reads, for every URL).
        let csrf_state = if settings.csrf_use_sessions {
            match ctx
                .session
                .get(&app.sessions, ctx.now, session::CSRF_SESSION_KEY)
                .await
            {
                Ok(v) => {
                    csrf::process_request_session(version, v.as_ref().and_then(|v| v.as_str()))
                }
                // Django's 500 handler (`requires_csrf_token`) reads the
                // session again and raises again: the WSGI server answers.
                Err(e) => {
                    tracing::error!("session: {e}");
                    out.layers = Layers::Server;
                    break 'reply Reply::wsgi_server_error();
                }
            }
        } else {
            csrf::process_request(
                version,
                cookies.get(&settings.csrf_cookie_name).map(String::as_str),
            )
        };
        if csrf_state.raised {
            tracing::error!("CSRF_USE_SESSIONS: the session's _csrftoken cannot be unmasked");
            out.layers = Layers::Server;
            break 'reply Reply::wsgi_server_error();
        }
        if let Some(location) = redirect {
            // `HttpResponseRedirectBase`: 4.2+ refuse a Location over
            // MAX_URL_LENGTH (DisallowedRedirect, a 400 from outside Common).
            if location.len() > 16384 {
                tracing::warn!("Unsafe redirect exceeding 16384 characters");
                out.layers = Layers::Outer;
                break 'reply Reply::bad_request(version);
            }
            // 4.2+: the resolver's 404 becomes the redirect in
            // CommonMiddleware.process_response; 6.x adds Content-Length.
            out.layers = if version >= DjangoVersion::V6_0 {
                Layers::FromCommon
            } else {
                Layers::Outer
            };
            break 'reply Reply::permanent_redirect(&location);
        }
        // 4.2+ Csrf.process_response sets a new cookie for a malformed one
        // on every response it sees, a 404 included (not the 301 above,
        // which CommonMiddleware makes afterwards).
        out.csrf_cookie = csrf_state
            .new_cookie
            .as_ref()
            .map(|s| csrf_cookie(settings, s, ctx.now));
        let Some(view) = view.filter(|_| slash || !settings.trailing_slash_required) else {
            break 'reply Reply::not_found(version);
        };
        let enforce_csrf = !settings.csrf_exempt && !csrf::is_safe_method(method);
        if enforce_csrf {
            let origin = header_latin1(&parts.headers, "origin");
            let referer = header_latin1(&parts.headers, "referer");
            let facts = csrf::RequestFacts {
                method,
                origin: origin.as_deref(),
                referer: referer.as_deref(),
                host: Some(good_host),
                is_secure: is_secure(settings, &parts.headers),
            };
            if let Err(r) =
                csrf::before_body(version, &settings.csrf_trusted_origins, &csrf_state, &facts)
            {
                tracing::warn!("Forbidden ({}): {}", r.reason, parts.uri.path());
                break 'reply csrf_refusal(version, &r, &mut out);
            }
        }
        let header_token = header(&parts.headers, &settings.csrf_header);
        if method != "POST" {
            if enforce_csrf {
                if let Err(r) = csrf::check_token(
                    version,
                    &settings.csrf_header,
                    &csrf_state,
                    "",
                    header_token,
                ) {
                    tracing::warn!("Forbidden ({}): {}", r.reason, parts.uri.path());
                    break 'reply csrf_refusal(version, &r, &mut out);
                }
            }
            break 'reply if method == "OPTIONS" {
                Reply::options()
            } else {
                Reply::method_not_allowed()
            };
        }

        // request.POST / request.FILES, read by the CSRF check or the view.
        let info = BodyInfo {
            method,
            content_type: header(&parts.headers, "content-type"),
            content_length: header(&parts.headers, "content-length")
                .and_then(|v| v.trim().parse().ok()),
        };
        let stream = read_timeout(
            body,
            std::time::Duration::from_secs(settings.read_timeout_secs),
        );
        let limits = app.limits();
        let (form, pending) = match view {
            View::Upload => {
                let mut sink = upload::UploadSink::new(&mut ctx);
                let field = settings.field_name.as_str();
                let parsed =
                    form::load_post_and_files(&info, stream, version, limits, field, &mut sink)
                        .await;
                let pending = sink.finish().await;
                match parsed {
                    Ok(f) => (f, Some(pending)),
                    Err(e) => {
                        pending.abandon(&ctx).await;
                        break 'reply parse_error_reply(&mut ctx, e).await;
                    }
                }
            }
            View::Complete => match form::load_post_and_files(
                &info,
                stream,
                version,
                limits,
                "file",
                &mut NoFiles,
            )
            .await
            {
                Ok(f) => (f, None),
                Err(e) => break 'reply parse_error_reply(&mut ctx, e).await,
            },
        };
        if enforce_csrf {
            let post_token = form.get("csrfmiddlewaretoken").unwrap_or("");
            if let Err(r) = csrf::check_token(
                version,
                &settings.csrf_header,
                &csrf_state,
                post_token,
                header_token,
            ) {
                tracing::warn!("Forbidden ({}): {}", r.reason, parts.uri.path());
                if let Some(p) = pending {
                    p.abandon(&ctx).await;
                }
                break 'reply csrf_refusal(version, &r, &mut out);
            }
        }
        run_view(&mut ctx, view, form, pending).await
    };

    let (vary, cookie) =
        ctx.session
            .response_cookie(settings, &app.sessions, reply.status.as_u16(), ctx.now);
    out.session_vary = vary;
    out.session_cookie = cookie;
    finish(reply, out, version)
}

async fn run_view(
    ctx: &mut Ctx<'_>,
    view: View,
    form: FormData,
    pending: Option<upload::Pending>,
) -> Reply {
    // The package's check_permissions reads request.user first thing;
    // `anyone` (a site's `pass` override) leaves it to `_post`, and without
    // AuthenticationMiddleware there is no request.user at all.
    let settings = &ctx.app.settings;
    if settings.auth_required && settings.permission == Permission::Authenticated {
        let refused = match ctx.user().await {
            Err(reply) => Some(reply),
            Ok(None) => Some(ctx.detail(403, "Authentication credentials were not provided")),
            Ok(Some(_)) => None,
        };
        if let Some(reply) = refused {
            if let Some(p) = pending {
                p.abandon(ctx).await;
            }
            return reply;
        }
    }
    match (view, pending) {
        (View::Upload, Some(p)) => upload::post(ctx, form, p).await,
        (View::Upload, None) => ctx.detail(400, "No chunk file was submitted"),
        (View::Complete, _) => complete::post(ctx, form).await,
    }
}

/// Parsing errors become Django's 400 page. On 3.2 and 4.2 the limit errors
/// are logged by AdminEmailHandler, which renders `request.user`: the
/// session is then accessed (`Vary: Cookie`), with all that `get_user` does.
async fn parse_error_reply(ctx: &mut Ctx<'_>, e: ParseError) -> Reply {
    let version = ctx.app.version();
    match &e {
        ParseError::Suspicious(msg) => {
            tracing::error!("{msg}");
            if version <= DjangoVersion::V4_2 && ctx.app.settings.auth_required {
                let _ = ctx.user().await;
            }
        }
        ParseError::Malformed(msg) => {
            tracing::warn!("Bad request (Unable to parse request body): {msg}")
        }
        ParseError::Unreadable(msg) => tracing::warn!("Unreadable request body: {msg}"),
        ParseError::Internal(msg) => {
            tracing::error!("{msg}");
            return Reply::server_error(version);
        }
    }
    Reply::bad_request(version)
}

/// The request body, failing when the client sends nothing for `limit`: a
/// slow or stalled client cannot hold a connection (and a row lock) forever.
fn read_timeout(
    body: Body,
    limit: std::time::Duration,
) -> std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, String>> + Send>> {
    use futures_util::StreamExt;
    let stream = body.into_data_stream();
    Box::pin(futures_util::stream::unfold(
        Some(stream),
        move |state| async move {
            let mut stream = state?;
            match tokio::time::timeout(limit, stream.next()).await {
                Ok(Some(Ok(b))) => Some((Ok(b), Some(stream))),
                Ok(Some(Err(e))) => Some((Err(e.to_string()), None)),
                Ok(None) => None,
                Err(_) => Some((Err(format!("no body data for {} s", limit.as_secs())), None)),
            }
        },
    ))
}

/// `CsrfViewMiddleware._set_csrf_cookie` with the default cookie settings.
fn csrf_cookie(settings: &Settings, secret: &str, now: DateTime<Utc>) -> SetCookie {
    let mut c = SetCookie::with_max_age(
        &settings.csrf_cookie_name,
        secret,
        31_449_600,
        now.timestamp(),
    );
    c.samesite = Some("Lax".into());
    c
}

/// Serve on `LISTEN` until SIGTERM/SIGINT; in-flight requests finish first.
pub async fn serve(app: Arc<App>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(app.settings.listen).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    serve_on(app, listener, shutdown_signal()).await
}

/// Serve on a bound listener until `shutdown` completes.
pub async fn serve_on(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let read_timeout = std::time::Duration::from_secs(app.settings.read_timeout_secs);
    // Connections beyond the limit wait in the kernel's accept queue.
    let slots = Arc::new(tokio::sync::Semaphore::new(app.settings.max_connections));
    let router = router(app);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("semaphore open"),
            _ = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => { tracing::warn!("accept: {e}"); continue; }
                };
                let _ = stream.set_nodelay(true);
                let in_flight = conn::InFlight::default();
                let service = {
                    let (router, in_flight) = (router.clone(), in_flight.clone());
                    tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
                        let busy = in_flight.enter();
                        let call = tower::ServiceExt::oneshot(router.clone(), req);
                        async move {
                            let response = call.await;
                            drop(busy);
                            response
                        }
                    })
                };
                let service = TowerToHyperService::new(service);
                // The slot goes back when the socket has lingered (conn::linger).
                let stream = conn::IdleTimeout::new(stream, in_flight, read_timeout, slot);
                let mut builder = Builder::new(TokioExecutor::new());
                builder
                    .http1()
                    .title_case_headers(true)
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(read_timeout)
                    // Bounds what one connection may buffer (headers included).
                    .max_buf_size(64 * 1024);
                let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("connection: {e}");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(30)) => tracing::warn!("shutdown timed out"),
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_lines_are_joined_as_gunicorn_joins_them() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", "sessionid=abc; x=1".parse().unwrap());
        headers.append(
            "cookie",
            axum::http::HeaderValue::from_bytes(b"y=caf\xc3\xa9; csrftoken=\xff").unwrap(),
        );
        assert_eq!(
            cookie_header(&headers),
            "sessionid=abc; x=1,y=caf\u{e9}; csrftoken=\u{fffd}"
        );
        let cookies = parse_cookie(&cookie_header(&headers));
        assert_eq!(cookies["x"], "1,y=caf\u{e9}");
        assert_eq!(cookie_header(&HeaderMap::new()), "");
    }

    #[test]
    fn append_slash_location_is_iri_to_uri_of_the_query() {
        let loc = |u: &str| with_slash(&u.parse().unwrap());
        assert_eq!(loc("/api/chunked_upload"), "/api/chunked_upload/");
        // An empty query string adds no `?` (get_full_path).
        assert_eq!(loc("/api/chunked_upload?"), "/api/chunked_upload/");
        assert_eq!(
            loc("/api/chunked_upload?a=1&b=%20x"),
            "/api/chunked_upload/?a=1&b=%20x"
        );
        // Outside iri_to_uri's safe set: quoted.
        assert_eq!(
            loc("/api/chunked_upload?q=a|b^c`d"),
            "/api/chunked_upload/?q=a%7Cb%5Ec%60d"
        );
    }
}
