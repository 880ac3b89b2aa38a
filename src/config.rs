//! Settings, read from environment variables named like the Django settings
//! they mirror (CONTRACT.md), each also a `serve` flag. Raw values are parsed
//! by clap; `Settings::from_raw` validates them and names the variable at fault.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use clap::Args;

use crate::django::cache::{CacheConfig, Flavor};
use crate::django::session_backends::Engine;
use crate::django::DjangoVersion;

/// Which package's behaviour to reproduce (`CHUNKED_UPLOAD_COMPAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compat {
    /// django-chunked-upload 2.0.0: completing a complete upload succeeds again.
    Upstream,
    /// django-chunked-upload-patched 2.1.0: it answers 400.
    Patched,
}

/// `check_permissions` of the views (`CHUNKED_UPLOAD_PERMISSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// The package's: anonymous users get 403.
    Authenticated,
    /// A site's `def check_permissions(self, request): pass` (the demo
    /// project's): anyone may upload; `request.user` is then first read
    /// where `_post` needs it.
    Anyone,
}

/// The raw configuration as given on the command line or in the environment.
#[derive(Args, Debug, Clone, Default)]
pub struct RawSettings {
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    #[arg(long, env = "SECRET_KEY_FALLBACKS", hide_env_values = true)]
    pub secret_key_fallbacks: Option<String>,
    #[arg(long, env = "MEDIA_ROOT")]
    pub media_root: Option<String>,
    #[arg(long, env = "ALLOWED_HOSTS")]
    pub allowed_hosts: Option<String>,
    #[arg(long, env = "TIME_ZONE")]
    pub time_zone: Option<String>,
    #[arg(long, env = "USE_TZ")]
    pub use_tz: Option<String>,
    #[arg(long, env = "FILE_UPLOAD_PERMISSIONS")]
    pub file_upload_permissions: Option<String>,
    #[arg(long, env = "FILE_UPLOAD_DIRECTORY_PERMISSIONS")]
    pub file_upload_directory_permissions: Option<String>,
    #[arg(long, env = "FILE_UPLOAD_TEMP_DIR")]
    pub file_upload_temp_dir: Option<String>,
    #[arg(long, env = "DATA_UPLOAD_MAX_MEMORY_SIZE")]
    pub data_upload_max_memory_size: Option<String>,
    #[arg(long, env = "DATA_UPLOAD_MAX_NUMBER_FIELDS")]
    pub data_upload_max_number_fields: Option<String>,
    #[arg(long, env = "DATA_UPLOAD_MAX_NUMBER_FILES")]
    pub data_upload_max_number_files: Option<String>,
    #[arg(long, env = "SESSION_ENGINE")]
    pub session_engine: Option<String>,
    #[arg(long, env = "SESSION_COOKIE_NAME")]
    pub session_cookie_name: Option<String>,
    #[arg(long, env = "SESSION_COOKIE_AGE")]
    pub session_cookie_age: Option<String>,
    #[arg(long, env = "CSRF_COOKIE_NAME")]
    pub csrf_cookie_name: Option<String>,
    #[arg(long, env = "CSRF_HEADER_NAME")]
    pub csrf_header_name: Option<String>,
    #[arg(long, env = "CSRF_TRUSTED_ORIGINS")]
    pub csrf_trusted_origins: Option<String>,
    #[arg(long, env = "CSRF_USE_SESSIONS")]
    pub csrf_use_sessions: Option<String>,
    #[arg(long, env = "AUTH_USER_TABLE")]
    pub auth_user_table: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_PATH")]
    pub chunked_upload_path: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_EXPIRATION_DELTA")]
    pub chunked_upload_expiration_delta: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_MAX_BYTES")]
    pub chunked_upload_max_bytes: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_CONTENT_TYPE")]
    pub chunked_upload_content_type: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_COMPAT")]
    pub chunked_upload_compat: Option<String>,
    #[arg(long, env = "LISTEN")]
    pub listen: Option<String>,
    #[arg(long, env = "UPLOAD_URL")]
    pub upload_url: Option<String>,
    #[arg(long, env = "COMPLETE_URL")]
    pub complete_url: Option<String>,
    #[arg(long, env = "CSRF_EXEMPT")]
    pub csrf_exempt: Option<String>,
    #[arg(long, env = "AUTH_REQUIRED")]
    pub auth_required: Option<String>,
    #[arg(long, env = "DJANGO_VERSION")]
    pub django_version: Option<String>,
    #[arg(long, env = "DB_POOL_SIZE")]
    pub db_pool_size: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_FSYNC")]
    pub chunked_upload_fsync: Option<String>,
    #[arg(long, env = "READ_TIMEOUT")]
    pub read_timeout: Option<String>,
    #[arg(long, env = "MAX_CONNECTIONS")]
    pub max_connections: Option<String>,
    #[arg(long, env = "DB_TIMEOUT")]
    pub db_timeout: Option<String>,
    #[arg(long, env = "CACHES", hide_env_values = true)]
    pub caches: Option<String>,
    #[arg(long, env = "SESSION_SERIALIZER")]
    pub session_serializer: Option<String>,
    #[arg(long, env = "SESSION_CACHE_ALIAS")]
    pub session_cache_alias: Option<String>,
    #[arg(long, env = "SESSION_FILE_PATH")]
    pub session_file_path: Option<String>,
    #[arg(long, env = "SECURE_PROXY_SSL_HEADER")]
    pub secure_proxy_ssl_header: Option<String>,
    #[arg(long, env = "USE_X_FORWARDED_HOST")]
    pub use_x_forwarded_host: Option<String>,
    #[arg(long, env = "USE_X_FORWARDED_PORT")]
    pub use_x_forwarded_port: Option<String>,
    #[arg(long, env = "APPEND_SLASH")]
    pub append_slash: Option<String>,
    #[arg(long, env = "TRAILING_SLASH")]
    pub trailing_slash: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_TABLE")]
    pub chunked_upload_table: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_FIELD_NAME")]
    pub chunked_upload_field_name: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_FAIL_IF_NO_HEADER")]
    pub chunked_upload_fail_if_no_header: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_DO_MD5_CHECK")]
    pub chunked_upload_do_md5_check: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_USER_FIELD_NAME")]
    pub chunked_upload_user_field_name: Option<String>,
    #[arg(long, env = "CHUNKED_UPLOAD_PERMISSION")]
    pub chunked_upload_permission: Option<String>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub secret_key: String,
    pub secret_key_fallbacks: Vec<String>,
    pub media_root: PathBuf,
    pub allowed_hosts: Vec<String>,
    pub time_zone: Tz,
    pub use_tz: bool,
    pub file_upload_permissions: Option<u32>,
    pub file_upload_directory_permissions: Option<u32>,
    pub file_upload_temp_dir: PathBuf,
    pub data_upload_max_memory_size: Option<u64>,
    pub data_upload_max_number_fields: Option<u64>,
    pub data_upload_max_number_files: Option<u64>,
    pub session_engine: Engine,
    /// The `CACHES[SESSION_CACHE_ALIAS]` entry, for the cache engines.
    pub session_cache: Option<CacheConfig>,
    /// `SESSION_FILE_PATH`, for the file engine.
    pub session_file_path: PathBuf,
    pub session_cookie_name: String,
    pub session_cookie_age: i64,
    pub csrf_cookie_name: String,
    /// The HTTP header carrying the token, e.g. `x-csrftoken` for `HTTP_X_CSRFTOKEN`.
    pub csrf_header: String,
    pub csrf_trusted_origins: Vec<String>,
    pub csrf_use_sessions: bool,
    pub auth_user_table: String,
    /// The table of the upload model (a subclass of `AbstractChunkedUpload`).
    pub chunked_upload_table: String,
    /// `SECURE_PROXY_SSL_HEADER`: the header (lower-case HTTP name) and the
    /// value that makes `request.is_secure()`.
    pub secure_proxy_ssl_header: Option<(String, String)>,
    pub use_x_forwarded_host: bool,
    pub use_x_forwarded_port: bool,
    pub append_slash: bool,
    /// The URLconf requires the trailing slash (`path('api/chunked_upload/')`)
    /// instead of the demo project's optional one.
    pub trailing_slash_required: bool,
    pub chunked_upload_path: String,
    pub expiration_delta_secs: i64,
    pub max_bytes: Option<u64>,
    pub content_type: String,
    pub compat: Compat,
    pub listen: SocketAddr,
    pub upload_url: String,
    pub complete_url: String,
    pub csrf_exempt: bool,
    pub auth_required: bool,
    pub django_version: DjangoVersion,
    pub db_pool_size: u32,
    /// fsync the chunk before its offset is committed: a 200 means on disk.
    pub fsync: bool,
    /// Seconds a client may stay silent while sending headers or body.
    pub read_timeout_secs: u64,
    /// Connections served at once; more wait in the accept queue.
    pub max_connections: usize,
    /// Seconds to wait for a database connection before answering 500.
    pub db_timeout_secs: u64,
    /// `ChunkedUploadView.field_name`: the multipart field of the chunk.
    pub field_name: String,
    /// `ChunkedUploadView.fail_if_no_header`: a chunk without a valid
    /// `Content-Range` is refused.
    pub fail_if_no_header: bool,
    /// `ChunkedUploadCompleteView.do_md5_check`.
    pub do_md5_check: bool,
    /// `user_field_name`: the upload model's foreign key to the user model
    /// (column `<name>_id`).
    pub user_field_name: String,
    /// `check_permissions`.
    pub permission: Permission,
}

/// A setting that is missing or invalid; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn required(var: &'static str, v: &Option<String>) -> Result<String, ConfigError> {
    present(v)
        .map(str::to_owned)
        .ok_or_else(|| err(var, "is required but not set"))
}

/// Django-style booleans as a site would export them (`True`, `False`, `1`, `0`).
fn boolean(var: &'static str, v: &Option<String>, default: bool) -> Result<bool, ConfigError> {
    match present(v) {
        None => Ok(default),
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(err(var, format!("{s:?} is not a boolean (True or False)"))),
        },
    }
}

/// A comma-separated list or a JSON array of strings.
fn list(var: &'static str, v: &Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(s) = present(v) else {
        return Ok(Vec::new());
    };
    if s.starts_with('[') {
        return serde_json::from_str::<Vec<String>>(s)
            .map_err(|e| err(var, format!("invalid JSON array of strings: {e}")));
    }
    Ok(s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect())
}

fn integer<T: std::str::FromStr>(
    var: &'static str,
    v: &Option<String>,
    default: Option<T>,
) -> Result<Option<T>, ConfigError> {
    match present(v) {
        None => Ok(default),
        Some("None") => Ok(None),
        Some(s) => s
            .parse::<T>()
            .map(Some)
            .map_err(|_| err(var, format!("{s:?} is not a valid whole number"))),
    }
}

/// Octal modes as Django writes them: `0o644`, `0644` or `644`; `None` for none.
fn octal(
    var: &'static str,
    v: &Option<String>,
    default: Option<u32>,
) -> Result<Option<u32>, ConfigError> {
    match present(v) {
        None => Ok(default),
        Some("None") => Ok(None),
        Some(s) => {
            let digits = s.strip_prefix("0o").unwrap_or(s);
            u32::from_str_radix(digits, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .map(Some)
                .ok_or_else(|| err(var, format!("{s:?} is not an octal file mode like 0o644")))
        }
    }
}

fn url_path(var: &'static str, v: &Option<String>, default: &str) -> Result<String, ConfigError> {
    let p = present(v).unwrap_or(default);
    if !p.starts_with('/') {
        return Err(err(var, format!("{p:?} must start with '/'")));
    }
    // The trailing slash is optional on the wire, as in the demo project's
    // `^api/chunked_upload/?$`; keep the path without it.
    Ok(p.trim_end_matches('/').to_owned())
}

/// A table name we put into SQL unquoted, so it must read the same quoted
/// or not (Django quotes `db_table`): lower-case letters, digits and `_`.
fn table_name(var: &'static str, name: &str) -> Result<String, ConfigError> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(err(
            var,
            format!("{name:?} must be a plain lower-case table name ([a-z0-9_])"),
        ));
    }
    Ok(name.to_owned())
}

/// A model field name as Django allows it (fields.E001, E002): a Python
/// identifier without `__` that does not end in `_`. Its column `<name>_id`
/// goes into SQL quoted.
fn model_field_name(var: &'static str, name: &str) -> Result<String, ConfigError> {
    let identifier = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier || name.contains("__") || name.ends_with('_') {
        return Err(err(
            var,
            format!(
                "{name:?} is not a model field name (letters, digits and single underscores, \
                 not ending in _)"
            ),
        ));
    }
    Ok(name.to_owned())
}

/// `CACHES[alias]` from a URL (`redis://host:port/db?BACKEND=…&KEY_PREFIX=…&VERSION=…`,
/// for the `default` alias) or Django's own dict as JSON. Only Redis caches
/// can be shared with a Django site; anything else is refused by name.
fn caches(
    v: &Option<String>,
    alias: &str,
    version: DjangoVersion,
) -> Result<Option<CacheConfig>, ConfigError> {
    let Some(s) = present(v) else {
        return Ok(None);
    };
    let (backend, location, key_prefix, cache_version, options) = if s.starts_with('{') {
        let all: serde_json::Map<String, serde_json::Value> = serde_json::from_str(s)
            .map_err(|e| err("CACHES", format!("invalid JSON object: {e}")))?;
        let Some(entry) = all.get(alias) else {
            return Ok(None);
        };
        let get = |k: &str| entry.get(k);
        let location = match get("LOCATION") {
            Some(serde_json::Value::String(l)) => l.clone(),
            Some(serde_json::Value::Array(a)) if a.len() == 1 => {
                a[0].as_str().unwrap_or_default().to_owned()
            }
            Some(serde_json::Value::Array(_)) => {
                return Err(err(
                    "CACHES",
                    format!(
                        "{alias}: only one LOCATION is supported (Django reads replicas at random)"
                    ),
                ))
            }
            _ => String::new(),
        };
        if get("KEY_FUNCTION").is_some() {
            return Err(err(
                "CACHES",
                format!("{alias}: KEY_FUNCTION is not supported (only Django's default key)"),
            ));
        }
        let version_value = match get("VERSION") {
            None => 1,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| err("CACHES", format!("{alias}: VERSION must be an integer")))?,
        };
        (
            get("BACKEND")
                .and_then(|b| b.as_str())
                .unwrap_or_default()
                .to_owned(),
            location,
            get("KEY_PREFIX")
                .and_then(|b| b.as_str())
                .unwrap_or_default()
                .to_owned(),
            version_value,
            get("OPTIONS")
                .and_then(|o| o.as_object())
                .cloned()
                .unwrap_or_default(),
        )
    } else {
        if alias != "default" {
            return Ok(None);
        }
        let (location, query) = s.split_once('?').unwrap_or((s, ""));
        let mut backend = "django.core.cache.backends.redis.RedisCache".to_owned();
        let (mut key_prefix, mut cache_version) = (String::new(), 1i64);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            match k {
                "BACKEND" => backend = v,
                "KEY_PREFIX" => key_prefix = v,
                "VERSION" => {
                    cache_version = v
                        .parse()
                        .map_err(|_| err("CACHES", format!("VERSION={v:?} is not an integer")))?
                }
                other => {
                    return Err(err(
                        "CACHES",
                        format!("unknown URL option {other:?} (BACKEND, KEY_PREFIX or VERSION)"),
                    ))
                }
            }
        }
        (
            backend,
            location.to_owned(),
            key_prefix,
            cache_version,
            Default::default(),
        )
    };
    let flavor = Flavor::from_backend(&backend).ok_or_else(|| {
        err(
            "CACHES",
            format!(
                "{alias}: BACKEND {backend:?} is not a Redis cache \
                 (django.core.cache.backends.redis.RedisCache or django_redis.cache.RedisCache)"
            ),
        )
    })?;
    if flavor == Flavor::Django && version == DjangoVersion::V3_2 {
        return Err(err(
            "CACHES",
            "Django 3.2 has no django.core.cache.backends.redis.RedisCache; use django_redis.cache.RedisCache",
        ));
    }
    if !(location.starts_with("redis://")
        || location.starts_with("rediss://")
        || location.starts_with("unix://"))
    {
        return Err(err(
            "CACHES",
            format!("{alias}: LOCATION {location:?} must be a redis://, rediss:// or unix:// URL"),
        ));
    }
    // django-redis pickles with `pickle.DEFAULT_PROTOCOL` (4 on Python
    // 3.8–3.13) unless OPTIONS sets PICKLE_VERSION; Django's own uses 5.
    let mut pickle_protocol = match flavor {
        Flavor::Django => 5,
        Flavor::DjangoRedis => 4,
    };
    for (k, v) in &options {
        match (flavor, k.as_str()) {
            (Flavor::DjangoRedis, "PICKLE_VERSION") => {
                pickle_protocol = match v.as_i64() {
                    Some(-1) => 5,
                    Some(p @ 2..=5) => p as u8,
                    _ => {
                        return Err(err(
                            "CACHES",
                            format!(
                                "{alias}: PICKLE_VERSION {v} is not a pickle protocol from 2 to 5"
                            ),
                        ))
                    }
                }
            }
            (Flavor::DjangoRedis, "CLIENT_CLASS")
                if v.as_str() == Some("django_redis.client.DefaultClient") => {}
            // Timeouts change no stored byte; credentials and the database
            // number belong in LOCATION, the one place we read them from.
            (
                _,
                "socket_timeout"
                | "socket_connect_timeout"
                | "SOCKET_TIMEOUT"
                | "SOCKET_CONNECT_TIMEOUT",
            ) => {}
            _ => {
                return Err(err(
                    "CACHES",
                    format!(
                    "{alias}: OPTIONS {k:?} is not supported (it would change the stored bytes)"
                ),
                ))
            }
        }
    }
    Ok(Some(CacheConfig {
        flavor,
        location,
        key_prefix,
        version: cache_version,
        pickle_protocol,
    }))
}

impl Settings {
    /// Validate everything `serve` needs.
    pub fn from_raw(raw: &RawSettings) -> Result<Settings, ConfigError> {
        let database_url = required("DATABASE_URL", &raw.database_url)?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(err("DATABASE_URL", "must be a postgres:// URL"));
        }
        let secret_key = required("SECRET_KEY", &raw.secret_key)?;
        let media_root = PathBuf::from(required("MEDIA_ROOT", &raw.media_root)?);
        if !media_root.is_absolute() {
            return Err(err("MEDIA_ROOT", "must be an absolute path"));
        }
        let mut allowed_hosts = list("ALLOWED_HOSTS", &raw.allowed_hosts)?;
        if raw.allowed_hosts.is_none() {
            allowed_hosts = vec!["*".to_owned()];
        }
        let tz_name = present(&raw.time_zone).unwrap_or("UTC");
        let time_zone: Tz = tz_name
            .parse()
            .map_err(|_| err("TIME_ZONE", format!("{tz_name:?} is not a known time zone")))?;

        let engine_name =
            present(&raw.session_engine).unwrap_or("django.contrib.sessions.backends.db");
        let session_engine = Engine::from_setting(engine_name).ok_or_else(|| {
            err(
                "SESSION_ENGINE",
                format!(
                    "{engine_name:?} is not a built-in engine (django.contrib.sessions.backends.db, \
                     cache, cached_db, file or signed_cookies)"
                ),
            )
        })?;
        let csrf_header_setting = present(&raw.csrf_header_name).unwrap_or("HTTP_X_CSRFTOKEN");
        // META key → header name, as Django's HttpHeaders does: HTTP_X_CSRFTOKEN → x-csrftoken.
        let csrf_header = csrf_header_setting
            .strip_prefix("HTTP_")
            .ok_or_else(|| {
                err(
                    "CSRF_HEADER_NAME",
                    format!("{csrf_header_setting:?} must be a META key starting with HTTP_"),
                )
            })?
            .replace('_', "-")
            .to_ascii_lowercase();

        let auth_user_table = table_name(
            "AUTH_USER_TABLE",
            present(&raw.auth_user_table).unwrap_or("auth_user"),
        )?;
        let chunked_upload_path = present(&raw.chunked_upload_path)
            .unwrap_or("chunked_uploads/%Y/%m/%d")
            .to_owned();
        if chrono::format::StrftimeItems::new(&chunked_upload_path)
            .any(|i| matches!(i, chrono::format::Item::Error))
        {
            return Err(err(
                "CHUNKED_UPLOAD_PATH",
                "has a strftime directive that is not supported",
            ));
        }
        let compat = match present(&raw.chunked_upload_compat).unwrap_or("upstream") {
            "upstream" => Compat::Upstream,
            "patched" => Compat::Patched,
            other => {
                return Err(err(
                    "CHUNKED_UPLOAD_COMPAT",
                    format!("{other:?} is not upstream or patched"),
                ))
            }
        };
        let listen_s = present(&raw.listen).unwrap_or("127.0.0.1:8000");
        let listen = listen_s.parse().map_err(|_| {
            err(
                "LISTEN",
                format!("{listen_s:?} is not an address like 127.0.0.1:8000"),
            )
        })?;
        let django_version = present(&raw.django_version)
            .unwrap_or("5.2")
            .parse()
            .map_err(|e: String| err("DJANGO_VERSION", e))?;
        let expiration_delta_secs = integer(
            "CHUNKED_UPLOAD_EXPIRATION_DELTA",
            &raw.chunked_upload_expiration_delta,
            Some(86400),
        )?
        .ok_or_else(|| {
            err(
                "CHUNKED_UPLOAD_EXPIRATION_DELTA",
                "must be a number of seconds",
            )
        })?;
        let session_cookie_age = integer(
            "SESSION_COOKIE_AGE",
            &raw.session_cookie_age,
            Some(1_209_600),
        )?
        .filter(|n: &i64| n.unsigned_abs() <= 100 * 365 * 86_400)
        .ok_or_else(|| {
            err(
                "SESSION_COOKIE_AGE",
                "must be a number of seconds, at most 100 years",
            )
        })?;
        let file_upload_temp_dir = present(&raw.file_upload_temp_dir)
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let read_timeout_secs = integer("READ_TIMEOUT", &raw.read_timeout, Some(60u64))?
            .filter(|n| *n > 0)
            .ok_or_else(|| err("READ_TIMEOUT", "must be at least 1 second"))?;
        let max_connections = integer("MAX_CONNECTIONS", &raw.max_connections, Some(1024usize))?
            .filter(|n| *n > 0)
            .ok_or_else(|| err("MAX_CONNECTIONS", "must be at least 1"))?;
        let db_pool_size = integer("DB_POOL_SIZE", &raw.db_pool_size, Some(32u32))?
            .filter(|n| *n > 0)
            .ok_or_else(|| err("DB_POOL_SIZE", "must be at least 1"))?;

        // Sessions signed with PickleSerializer (3.2, 4.2) would need a pickle
        // reader for arbitrary objects; refuse them rather than read `{}`.
        match present(&raw.session_serializer) {
            None
            | Some("django.contrib.sessions.serializers.JSONSerializer")
            | Some("django.core.signing.JSONSerializer") => {}
            Some(other) => {
                return Err(err(
                    "SESSION_SERIALIZER",
                    format!("{other:?} is not supported (only JSONSerializer, Django's default)"),
                ))
            }
        }
        let use_tz = boolean("USE_TZ", &raw.use_tz, true)?;
        let csrf_use_sessions = boolean("CSRF_USE_SESSIONS", &raw.csrf_use_sessions, false)?;
        let session_cache_alias = present(&raw.session_cache_alias).unwrap_or("default");
        let session_cache = if session_engine.uses_cache() {
            let config =
                caches(&raw.caches, session_cache_alias, django_version)?.ok_or_else(|| {
                    err(
                        "CACHES",
                        format!(
                        "{engine_name} keeps sessions in CACHES[{session_cache_alias:?}], which \
                         must be the Redis cache the Django site uses (Django's default, \
                         LocMemCache, lives inside each Django process)"
                    ),
                    )
                })?;
            Some(config)
        } else {
            None
        };
        let session_file_path = present(&raw.session_file_path)
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let secure_proxy_ssl_header = match list(
            "SECURE_PROXY_SSL_HEADER",
            &raw.secure_proxy_ssl_header,
        )?
        .as_slice()
        {
            [] => None,
            [name, value] => {
                let header = name.strip_prefix("HTTP_").ok_or_else(|| {
                    err(
                        "SECURE_PROXY_SSL_HEADER",
                        format!("{name:?} must be a META key starting with HTTP_"),
                    )
                })?;
                Some((header.replace('_', "-").to_ascii_lowercase(), value.clone()))
            }
            _ => return Err(err(
                "SECURE_PROXY_SSL_HEADER",
                "must be two values: the META key and its value, e.g. HTTP_X_FORWARDED_PROTO,https",
            )),
        };
        let chunked_upload_table = table_name(
            "CHUNKED_UPLOAD_TABLE",
            present(&raw.chunked_upload_table).unwrap_or("chunked_upload_chunkedupload"),
        )?;
        let trailing_slash_required = match present(&raw.trailing_slash).unwrap_or("optional") {
            "optional" => false,
            "required" => true,
            other => {
                return Err(err(
                    "TRAILING_SLASH",
                    format!("{other:?} is not optional or required"),
                ))
            }
        };

        let permission = match present(&raw.chunked_upload_permission).unwrap_or("authenticated") {
            "authenticated" => Permission::Authenticated,
            "anyone" => Permission::Anyone,
            other => {
                return Err(err(
                    "CHUNKED_UPLOAD_PERMISSION",
                    format!("{other:?} is not authenticated or anyone"),
                ))
            }
        };
        let user_field_name = model_field_name(
            "CHUNKED_UPLOAD_USER_FIELD_NAME",
            present(&raw.chunked_upload_user_field_name).unwrap_or("user"),
        )?;
        // Any string can name a multipart field; only an empty one is unset.
        let field_name = raw
            .chunked_upload_field_name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "file".to_owned());

        Ok(Settings {
            database_url,
            secret_key,
            secret_key_fallbacks: list("SECRET_KEY_FALLBACKS", &raw.secret_key_fallbacks)?,
            media_root,
            allowed_hosts,
            time_zone,
            use_tz,
            file_upload_permissions: octal(
                "FILE_UPLOAD_PERMISSIONS",
                &raw.file_upload_permissions,
                Some(0o644),
            )?,
            file_upload_directory_permissions: octal(
                "FILE_UPLOAD_DIRECTORY_PERMISSIONS",
                &raw.file_upload_directory_permissions,
                None,
            )?,
            file_upload_temp_dir,
            data_upload_max_memory_size: integer(
                "DATA_UPLOAD_MAX_MEMORY_SIZE",
                &raw.data_upload_max_memory_size,
                Some(2_621_440),
            )?,
            data_upload_max_number_fields: integer(
                "DATA_UPLOAD_MAX_NUMBER_FIELDS",
                &raw.data_upload_max_number_fields,
                Some(1000),
            )?,
            data_upload_max_number_files: integer(
                "DATA_UPLOAD_MAX_NUMBER_FILES",
                &raw.data_upload_max_number_files,
                Some(100),
            )?,
            session_engine,
            session_cache,
            session_file_path,
            session_cookie_name: present(&raw.session_cookie_name)
                .unwrap_or("sessionid")
                .to_owned(),
            session_cookie_age,
            csrf_cookie_name: present(&raw.csrf_cookie_name)
                .unwrap_or("csrftoken")
                .to_owned(),
            csrf_header,
            csrf_trusted_origins: list("CSRF_TRUSTED_ORIGINS", &raw.csrf_trusted_origins)?,
            csrf_use_sessions,
            auth_user_table,
            chunked_upload_table,
            secure_proxy_ssl_header,
            use_x_forwarded_host: boolean(
                "USE_X_FORWARDED_HOST",
                &raw.use_x_forwarded_host,
                false,
            )?,
            use_x_forwarded_port: boolean(
                "USE_X_FORWARDED_PORT",
                &raw.use_x_forwarded_port,
                false,
            )?,
            append_slash: boolean("APPEND_SLASH", &raw.append_slash, true)?,
            trailing_slash_required,
            chunked_upload_path,
            expiration_delta_secs,
            max_bytes: integer(
                "CHUNKED_UPLOAD_MAX_BYTES",
                &raw.chunked_upload_max_bytes,
                None,
            )?,
            content_type: present(&raw.chunked_upload_content_type)
                .unwrap_or("application/json")
                .to_owned(),
            compat,
            listen,
            upload_url: url_path("UPLOAD_URL", &raw.upload_url, "/api/chunked_upload/")?,
            complete_url: url_path(
                "COMPLETE_URL",
                &raw.complete_url,
                "/api/chunked_upload_complete/",
            )?,
            csrf_exempt: boolean("CSRF_EXEMPT", &raw.csrf_exempt, false)?,
            auth_required: boolean("AUTH_REQUIRED", &raw.auth_required, true)?,
            django_version,
            db_pool_size,
            fsync: boolean("CHUNKED_UPLOAD_FSYNC", &raw.chunked_upload_fsync, false)?,
            read_timeout_secs,
            max_connections,
            db_timeout_secs: integer("DB_TIMEOUT", &raw.db_timeout, Some(10u64))?
                .filter(|n| *n > 0)
                .ok_or_else(|| err("DB_TIMEOUT", "must be at least 1 second"))?,
            field_name,
            fail_if_no_header: boolean(
                "CHUNKED_UPLOAD_FAIL_IF_NO_HEADER",
                &raw.chunked_upload_fail_if_no_header,
                false,
            )?,
            do_md5_check: boolean(
                "CHUNKED_UPLOAD_DO_MD5_CHECK",
                &raw.chunked_upload_do_md5_check,
                true,
            )?,
            user_field_name,
            permission,
        })
    }

    /// `[SECRET_KEY, *SECRET_KEY_FALLBACKS]`; 3.2 has no fallbacks.
    pub fn signing_keys(&self) -> Vec<&str> {
        let mut keys = vec![self.secret_key.as_str()];
        if self.django_version.is_4_or_later() {
            keys.extend(self.secret_key_fallbacks.iter().map(String::as_str));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> RawSettings {
        RawSettings {
            database_url: Some("postgres://u@127.0.0.1/db".into()),
            secret_key: Some("k".into()),
            media_root: Some("/tmp/media".into()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_djangos() {
        let s = Settings::from_raw(&base()).unwrap();
        assert_eq!(s.allowed_hosts, vec!["*"]);
        assert_eq!(s.file_upload_permissions, Some(0o644));
        assert_eq!(s.csrf_header, "x-csrftoken");
        assert_eq!(s.upload_url, "/api/chunked_upload");
        assert_eq!(s.expiration_delta_secs, 86400);
        assert_eq!(s.compat, Compat::Upstream);
        assert_eq!(s.django_version, DjangoVersion::V5_2);
        assert_eq!(s.field_name, "file");
        assert!(!s.fail_if_no_header);
        assert!(s.do_md5_check);
        assert_eq!(s.user_field_name, "user");
        assert_eq!(s.permission, Permission::Authenticated);
    }

    #[test]
    fn view_attributes_parse_and_name_the_variable() {
        let mut r = base();
        r.chunked_upload_field_name = Some("the_file".into());
        r.chunked_upload_fail_if_no_header = Some("True".into());
        r.chunked_upload_do_md5_check = Some("0".into());
        r.chunked_upload_user_field_name = Some("owner".into());
        r.chunked_upload_permission = Some("anyone".into());
        let s = Settings::from_raw(&r).unwrap();
        assert_eq!(s.field_name, "the_file");
        assert!(s.fail_if_no_header);
        assert!(!s.do_md5_check);
        assert_eq!(s.user_field_name, "owner");
        assert_eq!(s.permission, Permission::Anyone);

        let var = |adjust: fn(&mut RawSettings)| {
            let mut r = base();
            adjust(&mut r);
            Settings::from_raw(&r).unwrap_err().var
        };
        assert_eq!(
            var(|r| r.chunked_upload_fail_if_no_header = Some("sometimes".into())),
            "CHUNKED_UPLOAD_FAIL_IF_NO_HEADER"
        );
        assert_eq!(
            var(|r| r.chunked_upload_do_md5_check = Some("yes please".into())),
            "CHUNKED_UPLOAD_DO_MD5_CHECK"
        );
        assert_eq!(
            var(|r| r.chunked_upload_permission = Some("AllowAny".into())),
            "CHUNKED_UPLOAD_PERMISSION"
        );
        // Not field names Django allows (E001 trailing _, E002 `__`), or not
        // identifiers at all (they would end up in SQL).
        for bad in ["owner_", "owner__name", "1user", "user-id", "user\"; DROP"] {
            let mut r = base();
            r.chunked_upload_user_field_name = Some(bad.into());
            assert_eq!(
                Settings::from_raw(&r).unwrap_err().var,
                "CHUNKED_UPLOAD_USER_FIELD_NAME",
                "{bad}"
            );
        }
        let mut r = base();
        r.chunked_upload_user_field_name = Some("_Owner2".into());
        assert_eq!(Settings::from_raw(&r).unwrap().user_field_name, "_Owner2");
        // A multipart field name may be anything but empty.
        r.chunked_upload_field_name = Some("".into());
        assert_eq!(Settings::from_raw(&r).unwrap().field_name, "file");
        r.chunked_upload_field_name = Some("files[]".into());
        assert_eq!(Settings::from_raw(&r).unwrap().field_name, "files[]");
    }

    #[test]
    fn missing_and_invalid_settings_name_the_variable() {
        let mut r = base();
        r.secret_key = None;
        assert_eq!(Settings::from_raw(&r).unwrap_err().var, "SECRET_KEY");
        let mut r = base();
        r.use_tz = Some("maybe".into());
        assert_eq!(Settings::from_raw(&r).unwrap_err().var, "USE_TZ");
        r.use_tz = Some("False".into());
        assert!(!Settings::from_raw(&r).unwrap().use_tz);
        let mut r = base();
        r.file_upload_permissions = Some("0o999".into());
        assert_eq!(
            Settings::from_raw(&r).unwrap_err().var,
            "FILE_UPLOAD_PERMISSIONS"
        );
        let mut r = base();
        r.time_zone = Some("Mars/Olympus".into());
        assert_eq!(Settings::from_raw(&r).unwrap_err().var, "TIME_ZONE");
        let mut r = base();
        r.session_serializer = Some("django.contrib.sessions.serializers.PickleSerializer".into());
        assert_eq!(
            Settings::from_raw(&r).unwrap_err().var,
            "SESSION_SERIALIZER"
        );
        let mut r = base();
        r.session_engine = Some("django.contrib.sessions.backends.cached_db".into());
        assert_eq!(Settings::from_raw(&r).unwrap_err().var, "CACHES");
        r.caches = Some("memcached://127.0.0.1:11211".into());
        assert_eq!(Settings::from_raw(&r).unwrap_err().var, "CACHES");
        r.caches = Some("redis://127.0.0.1:6379/2?KEY_PREFIX=site&VERSION=3".into());
        let cache = Settings::from_raw(&r).unwrap().session_cache.unwrap();
        assert_eq!(
            (
                cache.key_prefix.as_str(),
                cache.version,
                cache.pickle_protocol
            ),
            ("site", 3, 5)
        );
        assert_eq!(cache.location, "redis://127.0.0.1:6379/2");
        r.caches = Some(
            r#"{"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://h:1/0"}}"#
                .into(),
        );
        let cache = Settings::from_raw(&r).unwrap().session_cache.unwrap();
        assert_eq!(
            (cache.flavor, cache.pickle_protocol),
            (Flavor::DjangoRedis, 4)
        );
        // 3.2 has no built-in RedisCache.
        r.django_version = Some("3.2".into());
        r.caches = Some("redis://127.0.0.1:6379/2".into());
        assert_eq!(Settings::from_raw(&r).unwrap_err().var, "CACHES");
    }

    #[test]
    fn lists_accept_commas_and_json() {
        let mut r = base();
        r.allowed_hosts = Some("a.com, .b.com".into());
        assert_eq!(
            Settings::from_raw(&r).unwrap().allowed_hosts,
            vec!["a.com", ".b.com"]
        );
        r.allowed_hosts = Some(r#"["x", "y"]"#.into());
        assert_eq!(
            Settings::from_raw(&r).unwrap().allowed_hosts,
            vec!["x", "y"]
        );
    }
}
