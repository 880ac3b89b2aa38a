//! The session engines (`django/contrib/sessions/backends/*.py`): where a
//! session key's data lives and how each engine loads, creates and deletes
//! it. `db`, `cached_db` and `file` store `SessionBase.encode` output (salt
//! `django.contrib.sessions.SessionStore`); `cache` stores the dict itself,
//! pickled by the cache; `signed_cookies` keeps the data in the cookie.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::{Map, Value};
use sqlx::PgPool;

use super::cache::{CacheError, Cached, RedisCache};
use super::{signing, DjangoVersion};
use crate::store::db;

/// `SessionBase.key_salt` for every built-in store class.
pub const SESSION_SALT: &str = "django.contrib.sessions.SessionStore";
/// The salt `signed_cookies` signs its cookie with.
pub const SIGNED_COOKIES_SALT: &str = "django.contrib.sessions.backends.signed_cookies";
const CACHE_PREFIX: &str = "django.contrib.sessions.cache";
const CACHED_DB_PREFIX: &str = "django.contrib.sessions.cached_db";
/// `VALID_KEY_CHARS`: new keys, and the only characters the file engine accepts.
const VALID_KEY_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `SESSION_ENGINE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Db,
    Cache,
    CachedDb,
    File,
    SignedCookies,
}

impl Engine {
    pub fn from_setting(dotted: &str) -> Option<Engine> {
        Some(match dotted {
            "django.contrib.sessions.backends.db" => Engine::Db,
            "django.contrib.sessions.backends.cache" => Engine::Cache,
            "django.contrib.sessions.backends.cached_db" => Engine::CachedDb,
            "django.contrib.sessions.backends.file" => Engine::File,
            "django.contrib.sessions.backends.signed_cookies" => Engine::SignedCookies,
            _ => return None,
        })
    }

    pub fn uses_cache(self) -> bool {
        matches!(self, Engine::Cache | Engine::CachedDb)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("session file: {0}")]
    File(#[from] std::io::Error),
    /// The cache holds an int or another non-dict object as the session.
    #[error("the cached session is not a dict")]
    NotADict,
}

/// What `SessionStore.load()` found for a key.
#[derive(Debug)]
pub enum Loaded {
    Data(Map<String, Value>),
    /// Unknown, expired or unreadable: the key becomes None (cookie deleted).
    Missing,
    /// The engine called `create()`: `file` on an expired session (a new key
    /// holding `{}`), `signed_cookies` on a bad cookie (the data is `{}`).
    Recreated {
        new_key: Option<String>,
    },
}

/// The configured engine and what it needs.
pub struct SessionStore {
    pub engine: Engine,
    pub pool: PgPool,
    pub cache: Option<RedisCache>,
    /// `SESSION_FILE_PATH` (or the temp dir).
    pub file_dir: PathBuf,
    pub cookie_name: String,
    pub cookie_age: i64,
    /// `[SECRET_KEY, *SECRET_KEY_FALLBACKS]` as this version reads signatures.
    pub signing_keys: Vec<String>,
    pub secret_key: String,
    pub version: DjangoVersion,
    /// The user table `get_user` reads.
    pub users: db::UserTable,
}

impl SessionStore {
    fn keys(&self) -> Vec<&str> {
        self.signing_keys.iter().map(String::as_str).collect()
    }

    fn cache(&self) -> &RedisCache {
        self.cache
            .as_ref()
            .expect("cache engines are configured with CACHES (checked at start)")
    }

    /// `SessionBase.decode`: any failure is `{}`; 3.2 also reads the pre-3.1 format.
    pub fn decode(&self, raw: &str) -> Map<String, Value> {
        let v32 = self.version == DjangoVersion::V3_2;
        match signing::loads(raw, &self.keys(), SESSION_SALT, v32, None) {
            Ok(map) => map,
            Err(_) if v32 => {
                signing::legacy_session_decode(raw, &self.secret_key).unwrap_or_default()
            }
            Err(_) => Map::new(),
        }
    }

    /// `SessionBase.encode` at `now`.
    pub fn encode(&self, data: &Map<String, Value>, now: DateTime<Utc>) -> String {
        signing::dumps(data, &self.secret_key, SESSION_SALT, now.timestamp())
    }

    /// The `signed_cookies` cookie value for `data` (`_get_session_key`).
    pub fn signed_cookie_value(&self, data: &Map<String, Value>, now: DateTime<Utc>) -> String {
        signing::dumps(data, &self.secret_key, SIGNED_COOKIES_SALT, now.timestamp())
    }

    /// `SessionStore.load()` for `key` (already `_validate_session_key`ed).
    /// With `effects` false nothing is written (a peek); the answer then
    /// says whether a write was skipped, so the real load must run again.
    pub async fn load(
        &self,
        key: &str,
        now: DateTime<Utc>,
        effects: bool,
    ) -> Result<(Loaded, bool), StoreError> {
        let mut skipped = false;
        let loaded = self.load_inner(key, now, effects, &mut skipped).await?;
        Ok((loaded, skipped))
    }

    async fn load_inner(
        &self,
        key: &str,
        now: DateTime<Utc>,
        effects: bool,
        skipped: &mut bool,
    ) -> Result<Loaded, StoreError> {
        match self.engine {
            Engine::Db => Ok(match db::load_session(&self.pool, key, now).await? {
                Some((raw, _)) => Loaded::Data(self.decode(&raw)),
                None => Loaded::Missing,
            }),
            Engine::Cache => match self.cache().get_dict(&cache_key(CACHE_PREFIX, key)).await {
                Ok(Some(Cached::Dict(data))) => Ok(Loaded::Data(data)),
                Ok(Some(Cached::NotADict)) => Err(StoreError::NotADict),
                Ok(None) => Ok(Loaded::Missing),
                Err(e) => {
                    // `except Exception: session_data = None` (#17810).
                    tracing::warn!("session cache read failed: {e}");
                    Ok(Loaded::Missing)
                }
            },
            Engine::CachedDb => {
                let ck = cache_key(CACHED_DB_PREFIX, key);
                match self.cache().get_dict(&ck).await {
                    Ok(Some(Cached::Dict(data))) => return Ok(Loaded::Data(data)),
                    Ok(Some(Cached::NotADict)) => return Err(StoreError::NotADict),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("session cache read failed: {e}"),
                }
                let Some((raw, expire)) = db::load_session(&self.pool, key, now).await? else {
                    return Ok(Loaded::Missing);
                };
                let data = self.decode(&raw);
                // Re-cached for what is left of the row's life.
                let ttl = whole_seconds(expire - now);
                // A failed write is Django's 500, in every version.
                if effects {
                    self.cache().set_dict(&ck, &data, ttl, false).await?;
                } else {
                    *skipped = true;
                }
                Ok(Loaded::Data(data))
            }
            Engine::File => self.load_file(key, now, effects, skipped).await,
            Engine::SignedCookies => {
                let max_age = Some((now.timestamp(), self.cookie_age));
                let v32 = self.version == DjangoVersion::V3_2;
                match signing::loads(key, &self.keys(), SIGNED_COOKIES_SALT, v32, max_age) {
                    Ok(data) => Ok(Loaded::Data(data)),
                    Err(_) => Ok(Loaded::Recreated { new_key: None }),
                }
            }
        }
    }

    /// `file` engine `load()`: a missing file or a key with characters
    /// outside `[a-z0-9]` is no session; an expired one is replaced.
    async fn load_file(
        &self,
        key: &str,
        now: DateTime<Utc>,
        effects: bool,
        skipped: &mut bool,
    ) -> Result<Loaded, StoreError> {
        let Some(path) = self.file_for(key) else {
            return Ok(Loaded::Missing);
        };
        let (raw, mtime) = match read_session_file(&path).await {
            Ok(x) => x,
            // `open(…, encoding="ascii").read()` raising UnicodeDecodeError
            // is not an OSError: Django does not catch it (500).
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Err(e.into()),
            Err(_) => return Ok(Loaded::Missing),
        };
        // An empty placeholder file is a session with no data.
        if raw.is_empty() {
            return Ok(Loaded::Data(Map::new()));
        }
        let data = self.decode(&raw);
        let expiry = match data.get("_session_expiry") {
            Some(v) if truthy(v) => Expiry::Value(v.clone()),
            _ => Expiry::At(mtime + Duration::seconds(self.cookie_age)),
        };
        if expiry.age(now).is_some_and(|age| age <= 0) {
            if !effects {
                *skipped = true;
                return Ok(Loaded::Recreated { new_key: None });
            }
            let _ = tokio::fs::remove_file(&path).await;
            let new_key = self.create(&Map::new(), now).await?;
            return Ok(Loaded::Recreated {
                new_key: Some(new_key),
            });
        }
        Ok(Loaded::Data(data))
    }

    fn file_for(&self, key: &str) -> Option<PathBuf> {
        if !key.bytes().all(|b| VALID_KEY_CHARS.contains(&b)) {
            return None;
        }
        Some(self.file_dir.join(format!("{}{key}", self.cookie_name)))
    }

    /// `SessionStore.delete(key)`.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.engine {
            Engine::Db => db::delete_session(&self.pool, key).await?,
            Engine::Cache => self.cache().delete(&cache_key(CACHE_PREFIX, key)).await?,
            Engine::CachedDb => {
                db::delete_session(&self.pool, key).await?;
                self.cache()
                    .delete(&cache_key(CACHED_DB_PREFIX, key))
                    .await?;
            }
            Engine::File => {
                if let Some(path) = self.file_for(key) {
                    let _ = tokio::fs::remove_file(path).await;
                }
            }
            Engine::SignedCookies => {}
        }
        Ok(())
    }

    /// `create()` then the response-time `save()`: a new key holding `data`.
    pub async fn create(
        &self,
        data: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let age = expiry_age(data, now, self.cookie_age);
        loop {
            let key = new_session_key();
            let created = match self.engine {
                Engine::Db | Engine::CachedDb => {
                    let expire = expiry_date(data, now, self.cookie_age);
                    let encoded = self.encode(data, now);
                    let inserted = db::insert_session(&self.pool, &key, &encoded, expire).await?;
                    if inserted && self.engine == Engine::CachedDb {
                        self.cache()
                            .set_dict(&cache_key(CACHED_DB_PREFIX, &key), data, age, false)
                            .await?;
                    }
                    inserted
                }
                Engine::Cache => {
                    self.cache()
                        .set_dict(&cache_key(CACHE_PREFIX, &key), data, age, true)
                        .await?
                }
                Engine::File => self.write_new_file(&key, data, now).await?,
                Engine::SignedCookies => true,
            };
            if created {
                return Ok(key);
            }
        }
    }

    /// `file` engine `save(must_create=True)`: claim the name with O_EXCL,
    /// then write through a `mkstemp` file (mode 0600) renamed over it.
    async fn write_new_file(
        &self,
        key: &str,
        data: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let path = self.file_for(key).expect("new keys are [a-z0-9]");
        let encoded = self.encode(data, now);
        let dir = self.file_dir.clone();
        let prefix = format!("{}{key}_out_", self.cookie_name);
        tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
                Err(e) => return Err(e),
            }
            let mut tmp = tempfile::Builder::new()
                .prefix(&prefix)
                .suffix("")
                .rand_bytes(8)
                .tempfile_in(&dir)?;
            tmp.write_all(encoded.as_bytes())?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(true)
        })
        .await
        .expect("session file writer panicked")
        .map_err(StoreError::File)
    }
}

async fn read_session_file(path: &Path) -> std::io::Result<(String, DateTime<Utc>)> {
    let bytes = tokio::fs::read(path).await?;
    let mtime: DateTime<Utc> = tokio::fs::metadata(path).await?.modified()?.into();
    // `open(…, encoding="ascii")`.
    let raw = String::from_utf8(bytes)
        .ok()
        .filter(|s| s.is_ascii())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not ASCII"))?;
    Ok((raw, mtime))
}

fn cache_key(prefix: &str, key: &str) -> String {
    format!("{prefix}{key}")
}

/// Python truthiness for the JSON values a session holds.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `timedelta.days * 86400 + timedelta.seconds`: whole seconds, floored.
pub fn whole_seconds(d: Duration) -> i64 {
    d.num_microseconds()
        .map(|us| us.div_euclid(1_000_000))
        .unwrap_or_else(|| d.num_seconds())
}

/// A `_session_expiry` value, or a point in time.
enum Expiry {
    Value(Value),
    At(DateTime<Utc>),
}

impl Expiry {
    /// `get_expiry_age(expiry=…)`: an int is the age itself, an ISO string
    /// (4.2+) a point in time (a naive one read as UTC). None: no number.
    fn age(&self, now: DateTime<Utc>) -> Option<i64> {
        match self {
            Expiry::At(t) => Some(whole_seconds(*t - now)),
            Expiry::Value(Value::Number(n)) => n.as_i64(),
            Expiry::Value(Value::String(s)) => parse_iso(s).map(|t| whole_seconds(t - now)),
            Expiry::Value(_) => None,
        }
    }
}

fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
}

/// `get_expiry_age()` for a session's own data.
pub fn expiry_age(data: &Map<String, Value>, now: DateTime<Utc>, cookie_age: i64) -> i64 {
    match data.get("_session_expiry") {
        Some(v) if truthy(v) => Expiry::Value(v.clone()).age(now).unwrap_or(cookie_age),
        _ => cookie_age,
    }
}

/// `get_expiry_date()`: the `expire_date` a db row is saved with.
pub fn expiry_date(
    data: &Map<String, Value>,
    now: DateTime<Utc>,
    cookie_age: i64,
) -> DateTime<Utc> {
    if let Some(Value::String(s)) = data.get("_session_expiry") {
        if let Some(t) = parse_iso(s) {
            return t;
        }
    }
    now + Duration::seconds(expiry_age(data, now, cookie_age))
}

/// `get_random_string(32, VALID_KEY_CHARS)`.
pub fn new_session_key() -> String {
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| VALID_KEY_CHARS[rng.gen_range(0..VALID_KEY_CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_floors_like_timedelta() {
        assert_eq!(whole_seconds(Duration::milliseconds(1500)), 1);
        assert_eq!(whole_seconds(Duration::milliseconds(999)), 0);
        assert_eq!(whole_seconds(Duration::milliseconds(-1)), -1);
        assert_eq!(whole_seconds(Duration::microseconds(-1)), -1);
        assert_eq!(whole_seconds(Duration::seconds(-3)), -3);
        assert_eq!(whole_seconds(Duration::microseconds(2_000_001)), 2);
    }

    #[test]
    fn engines_by_dotted_path() {
        assert_eq!(
            Engine::from_setting("django.contrib.sessions.backends.cached_db"),
            Some(Engine::CachedDb)
        );
        assert_eq!(Engine::from_setting("myapp.sessions"), None);
    }
}
