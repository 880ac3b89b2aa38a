//! The HTTP side: one handler that walks a request through what Django's
//! `startproject` middleware and URLconf would do, then the two views.

mod complete;
mod conn;
pub mod response;
mod upload;

pub use upload::parse_content_range;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::config::Settings;
use crate::django::cookies::{parse_cookie, SetCookie};
use crate::django::form::{self, BodyInfo, FormData, NoFiles};
use crate::django::multipart::{Limits, ParseError};
use crate::django::session::{self, Session, SessionError};
use crate::django::{csrf, host, DjangoVersion};
use crate::store::db::UserRow;
use crate::store::files::Storage;
use response::{finish, Outgoing, Reply};

pub struct App {
    pub settings: Settings,
    pub pool: PgPool,
    pub storage: Storage,
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
    pub fn new(settings: Settings, pool: PgPool) -> App {
        let storage = Storage {
            media_root: settings.media_root.clone(),
            upload_path: settings.chunked_upload_path.clone(),
            time_zone: settings.time_zone,
            file_permissions: settings.file_upload_permissions,
            directory_permissions: settings.file_upload_directory_permissions,
            version: settings.django_version,
        };
        App {
            settings,
            pool,
            storage,
            stats: Stats::default(),
            md5_state: true,
        }
    }

    fn version(&self) -> DjangoVersion {
        self.settings.django_version
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

impl Ctx<'_> {
    /// `request.user` as the views evaluate it (`check_permissions`).
    async fn user(&mut self) -> Result<Option<UserRow>, Reply> {
        let app = self.app;
        match session::get_user(&mut self.session, &app.pool, &app.settings, self.now).await {
            Ok(u) => Ok(u),
            Err(e) => {
                match e {
                    SessionError::InvalidUserId(_) => {
                        tracing::error!("{e}: Django raises ValidationError (500)")
                    }
                    SessionError::Db(_) => tracing::error!("session lookup failed: {e}"),
                }
                Err(Reply::server_error(app.version()))
            }
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

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let settings = &app.settings;
    let version = app.version();
    let cookies = header(&parts.headers, "cookie")
        .map(parse_cookie)
        .unwrap_or_default();
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
    let csrf_state = csrf::process_request(
        version,
        cookies.get(&settings.csrf_cookie_name).map(String::as_str),
    );
    let mut out = Outgoing {
        inner_layers: true,
        ..Default::default()
    };

    let method = parts.method.as_str();
    let reply = 'reply: {
        // CommonMiddleware.process_request: DisallowedHost.
        let raw_host = header(&parts.headers, "host").unwrap_or("");
        let Some(good_host) = host::get_host(raw_host, &settings.allowed_hosts) else {
            tracing::warn!("Invalid HTTP_HOST header: {raw_host:?}");
            out.inner_layers = false;
            break 'reply Reply::bad_request(version);
        };
        // The URLconf: `^api/chunked_upload/?$`, `^api/chunked_upload_complete/?$`.
        let path = parts.uri.path().trim_end_matches('/');
        let view = if path == settings.upload_url {
            View::Upload
        } else if path == settings.complete_url {
            View::Complete
        } else {
            break 'reply Reply::not_found(version);
        };
        if csrf_state.new_cookie.is_some() {
            out.csrf_cookie = csrf_state
                .new_cookie
                .as_ref()
                .map(|s| csrf_cookie(settings, s, ctx.now));
        }
        let enforce_csrf = !settings.csrf_exempt && !csrf::is_safe_method(method);
        if enforce_csrf {
            let facts = csrf::RequestFacts {
                method,
                origin: header(&parts.headers, "origin"),
                host: Some(good_host),
                is_secure: false,
            };
            if let Err(r) =
                csrf::before_body(version, &settings.csrf_trusted_origins, &csrf_state, &facts)
            {
                tracing::warn!("Forbidden ({}): {}", r.reason, parts.uri.path());
                break 'reply Reply::csrf_forbidden(version, r.page());
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
                    break 'reply Reply::csrf_forbidden(version, r.page());
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
                let parsed =
                    form::load_post_and_files(&info, stream, version, limits, "file", &mut sink)
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
                break 'reply Reply::csrf_forbidden(version, r.page());
            }
        }
        run_view(&mut ctx, view, form, pending).await
    };

    let (vary, cookie) = ctx
        .session
        .response_cookie(settings, reply.status.as_u16(), ctx.now);
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
    // check_permissions: only sites with AuthenticationMiddleware have request.user.
    let user_id = if ctx.app.settings.auth_required {
        let refused = match ctx.user().await {
            Err(reply) => reply,
            Ok(None) => ctx.detail(403, "Authentication credentials were not provided"),
            Ok(Some(u)) => {
                return dispatch(ctx, view, form, pending, Some(u.id)).await;
            }
        };
        if let Some(p) = pending {
            p.abandon(ctx).await;
        }
        return refused;
    } else {
        None
    };
    dispatch(ctx, view, form, pending, user_id).await
}

async fn dispatch(
    ctx: &mut Ctx<'_>,
    view: View,
    form: FormData,
    pending: Option<upload::Pending>,
    user_id: Option<i64>,
) -> Reply {
    match (view, pending) {
        (View::Upload, Some(p)) => upload::post(ctx, user_id, form, p).await,
        (View::Upload, None) => ctx.detail(400, "No chunk file was submitted"),
        (View::Complete, _) => complete::post(ctx, user_id, form).await,
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
                let stream = conn::IdleTimeout::new(stream, in_flight, read_timeout);
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
                    drop(slot);
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
