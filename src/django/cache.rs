//! Django cache backends over Redis, as far as the session engines use them
//! (`django.core.cache.backends.redis.RedisCache` and django-redis's
//! `django_redis.cache.RedisCache`): key making, (de)serialisation, get,
//! set, add and delete, writing exactly the bytes and TTLs Django writes.

use redis::aio::ConnectionManager;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::pickle;

/// Which Python package's client writes the values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `django.core.cache.backends.redis.RedisCache` (Django 4.0+): pickle
    /// protocol 5, `SET … EX seconds`.
    Django,
    /// `django_redis.cache.RedisCache`: its PickleSerializer's protocol,
    /// `SET … PX milliseconds`.
    DjangoRedis,
}

impl Flavor {
    pub fn from_backend(dotted: &str) -> Option<Flavor> {
        match dotted {
            "django.core.cache.backends.redis.RedisCache" => Some(Flavor::Django),
            "django_redis.cache.RedisCache" => Some(Flavor::DjangoRedis),
            _ => None,
        }
    }
}

/// One entry of `CACHES` that points at Redis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    pub flavor: Flavor,
    /// `LOCATION`: a redis:// URL.
    pub location: String,
    pub key_prefix: String,
    pub version: i64,
    /// The pickle protocol the backend writes with.
    pub pickle_protocol: u8,
}

/// Errors talking to Redis or decoding what it holds. On a read the session
/// engines take them as a miss, as Django's `except Exception` does; on a
/// write or delete they are Django's 500.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cached value: {0}")]
    Decode(String),
}

/// A session entry as the backend decodes it.
#[derive(Debug)]
pub enum Cached {
    Dict(Map<String, Value>),
    /// An int or another non-dict object: Django then holds it as the
    /// session and fails (500) when the session is read.
    NotADict,
}

/// Python's `int(data)` accepts it (both serialisers try that first).
fn is_python_int(raw: &[u8]) -> bool {
    std::str::from_utf8(raw).is_ok_and(|t| super::session::python_int_digits(t).is_some())
}

pub struct RedisCache {
    config: CacheConfig,
    client: redis::Client,
    /// Connected on first use, so a Redis that is down at start-up only
    /// fails the requests that need it; the manager reconnects by itself.
    conn: OnceCell<ConnectionManager>,
}

impl RedisCache {
    pub fn new(config: CacheConfig) -> Result<RedisCache, CacheError> {
        let client = redis::Client::open(config.location.as_str())?;
        Ok(RedisCache {
            config,
            client,
            conn: OnceCell::new(),
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, CacheError> {
        let cm = self
            .conn
            .get_or_try_init(|| async {
                let cfg = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(std::time::Duration::from_secs(5)))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), cfg).await
            })
            .await?;
        Ok(cm.clone())
    }

    /// `BaseCache.make_key` with the default `KEY_FUNCTION`.
    pub fn make_key(&self, key: &str) -> String {
        format!("{}:{}:{}", self.config.key_prefix, self.config.version, key)
    }

    /// `cache.get(key)`: None when absent; a pickle we cannot read is an error.
    pub async fn get_dict(&self, key: &str) -> Result<Option<Cached>, CacheError> {
        let mut conn = self.conn().await?;
        let raw: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.make_key(key))
            .query_async(&mut conn)
            .await?;
        let Some(raw) = raw else { return Ok(None) };
        if is_python_int(&raw) {
            return Ok(Some(Cached::NotADict));
        }
        match pickle::loads(&raw).map_err(|e| CacheError::Decode(e.to_string()))? {
            Value::Object(map) => Ok(Some(Cached::Dict(map))),
            // `cache.get` returning None is a miss, however it got there.
            Value::Null => Ok(None),
            _ => Ok(Some(Cached::NotADict)),
        }
    }

    /// `cache.set(key, dict, timeout)` (`only_if_absent`: `cache.add`).
    /// Non-positive timeouts delete the key, as both backends do.
    pub async fn set_dict(
        &self,
        key: &str,
        value: &Map<String, Value>,
        timeout_secs: i64,
        only_if_absent: bool,
    ) -> Result<bool, CacheError> {
        let mut conn = self.conn().await?;
        let full = self.make_key(key);
        if timeout_secs <= 0 {
            if only_if_absent {
                // django-redis answers `not has_key`; Django's add with a
                // non-positive timeout is `SET NX` then an immediate expiry.
                let exists: bool = redis::cmd("EXISTS")
                    .arg(&full)
                    .query_async(&mut conn)
                    .await?;
                return Ok(!exists);
            }
            let _: i64 = redis::cmd("DEL").arg(&full).query_async(&mut conn).await?;
            return Ok(true);
        }
        let bytes = pickle::dumps(&Value::Object(value.clone()), self.config.pickle_protocol);
        let mut cmd = redis::cmd("SET");
        cmd.arg(&full).arg(bytes);
        match self.config.flavor {
            Flavor::Django => cmd.arg("EX").arg(timeout_secs),
            Flavor::DjangoRedis => cmd.arg("PX").arg(timeout_secs.saturating_mul(1000)),
        };
        if only_if_absent {
            cmd.arg("NX");
        }
        let reply: Option<String> = cmd.query_async(&mut conn).await?;
        Ok(reply.is_some())
    }

    /// `cache.delete(key)`.
    pub async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let _: i64 = redis::cmd("DEL")
            .arg(self.make_key(key))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// Whether the server answers (`chunked-upload check`).
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_as_python_reads_them() {
        for yes in [&b"12345"[..], b" -7 ", b"1_000", b"+3\n"] {
            assert!(is_python_int(yes), "{yes:?}");
        }
        for no in [&b""[..], b"1__0", b"_1", b"abc", b"\x80\x05"] {
            assert!(!is_python_int(no), "{no:?}");
        }
    }
}
