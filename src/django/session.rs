//! `SessionMiddleware` (`django/contrib/sessions/middleware.py`) over any
//! engine, and `AuthenticationMiddleware`'s `get_user`
//! (`django/contrib/auth/__init__.py`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::cookies::SetCookie;
use super::session_backends::{self, Engine, Loaded, SessionStore, StoreError};
use super::{signing, DjangoVersion};
use crate::config::Settings;
use crate::store::db::{self, UserRow};

pub use super::session_backends::SESSION_SALT;
pub const SESSION_KEY: &str = "_auth_user_id";
pub const BACKEND_SESSION_KEY: &str = "_auth_user_backend";
pub const HASH_SESSION_KEY: &str = "_auth_user_hash";
/// `CSRF_SESSION_KEY`: where `CSRF_USE_SESSIONS` keeps the secret.
pub const CSRF_SESSION_KEY: &str = "_csrftoken";
/// The default `AUTHENTICATION_BACKENDS`.
pub const MODEL_BACKEND: &str = "django.contrib.auth.backends.ModelBackend";

/// A request's session, loaded lazily like `SessionStore`.
#[derive(Debug, Default, Clone)]
pub struct Session {
    /// The cookie was sent (even empty or invalid).
    pub cookie_sent: bool,
    /// `_session_key` after `_validate_session_key` (None: absent, < 8 chars,
    /// unknown or expired, flushed). For `signed_cookies`, the cookie itself.
    pub key: Option<String>,
    pub data: Map<String, Value>,
    pub loaded: bool,
    pub accessed: bool,
    pub modified: bool,
    /// The user row read for this request, so `get_user` queries it once.
    user_cache: Option<(i64, Option<UserRow>)>,
    /// A side-effect-free load already done for this request (by a peek).
    load_cache: Option<LoadedData>,
}

#[derive(Debug, Clone)]
enum LoadedData {
    Data(Map<String, Value>),
    Missing,
}

/// `_auth_user_id` that the pk's `to_python` rejects: Django answers 500.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("invalid _auth_user_id {0}")]
    InvalidUserId(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Session {
    pub fn from_cookie(cookie: Option<&str>) -> Session {
        Session {
            cookie_sent: cookie.is_some(),
            // `_validate_session_key`: truthy and at least 8 characters.
            key: cookie.filter(|k| k.len() >= 8).map(str::to_owned),
            ..Default::default()
        }
    }

    /// `SessionBase.is_empty`.
    pub fn is_empty(&self) -> bool {
        self.key.is_none() && self.data.is_empty()
    }

    /// `_get_session()`: the first access loads from the engine.
    pub async fn load(
        &mut self,
        store: &SessionStore,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.load_with(store, now, true).await
    }

    async fn load_with(
        &mut self,
        store: &SessionStore,
        now: DateTime<Utc>,
        effects: bool,
    ) -> Result<(), StoreError> {
        self.accessed = true;
        if self.loaded {
            return Ok(());
        }
        let Some(key) = self.key.clone() else {
            // No key: `_get_session` reads nothing.
            self.loaded = true;
            return Ok(());
        };
        let loaded = match self.load_cache.clone() {
            Some(LoadedData::Data(d)) => Loaded::Data(d),
            Some(LoadedData::Missing) => Loaded::Missing,
            None => {
                let (loaded, skipped) = store.load(&key, now, effects).await?;
                if !skipped {
                    self.load_cache = match &loaded {
                        Loaded::Data(d) => Some(LoadedData::Data(d.clone())),
                        Loaded::Missing => Some(LoadedData::Missing),
                        Loaded::Recreated { .. } => None,
                    };
                }
                loaded
            }
        };
        self.loaded = true;
        match loaded {
            Loaded::Data(d) => self.data = d,
            Loaded::Missing => self.key = None,
            Loaded::Recreated { new_key } => {
                self.data.clear();
                if let Some(k) = new_key {
                    self.key = Some(k);
                }
                self.modified = true;
            }
        }
        Ok(())
    }

    /// `request.session.get(name)`.
    pub async fn get(
        &mut self,
        store: &SessionStore,
        now: DateTime<Utc>,
        name: &str,
    ) -> Result<Option<Value>, StoreError> {
        self.load(store, now).await?;
        Ok(self.data.get(name).cloned())
    }

    /// `session.flush()`: delete the stored session, forget key and data.
    pub async fn flush(&mut self, store: &SessionStore) -> Result<(), StoreError> {
        self.data.clear();
        self.accessed = true;
        self.modified = true;
        // `delete()` raising leaves the key: no cookie deletion on the 500.
        if let Some(key) = &self.key {
            store.delete(key).await?;
        }
        self.key = None;
        Ok(())
    }

    /// `session.cycle_key()` then the response-time save: the same data
    /// under a new key, the old one deleted. `signed_cookies` has no key
    /// apart from its data: the response carries the re-signed cookie.
    async fn cycle_key(
        &mut self,
        store: &SessionStore,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.modified = true;
        if store.engine == Engine::SignedCookies {
            return Ok(());
        }
        let new_key = store.create(&self.data, now).await?;
        if let Some(old) = self.key.replace(new_key) {
            store.delete(&old).await?;
        }
        Ok(())
    }

    /// What `SessionMiddleware.process_response` adds: whether to patch
    /// `Vary: Cookie`, and a Set-Cookie (deletion, or the saved session).
    pub fn response_cookie(
        &self,
        settings: &Settings,
        store: &SessionStore,
        status: u16,
        now: DateTime<Utc>,
    ) -> (bool, Option<SetCookie>) {
        if self.cookie_sent && self.is_empty() {
            return (
                true,
                Some(SetCookie::deletion(
                    &settings.session_cookie_name,
                    Some("Lax"),
                )),
            );
        }
        let saves = match settings.django_version {
            DjangoVersion::V3_2 => status != 500,
            _ => status < 500,
        };
        if self.modified && !self.is_empty() && saves {
            let value = match store.engine {
                Engine::SignedCookies => store.signed_cookie_value(&self.data, now),
                _ => match &self.key {
                    Some(k) => k.clone(),
                    None => return (self.accessed, None),
                },
            };
            let max_age =
                session_backends::expiry_age(&self.data, now, settings.session_cookie_age);
            let mut c = SetCookie::with_max_age(
                &settings.session_cookie_name,
                &value,
                max_age,
                now.timestamp(),
            );
            c.httponly = true;
            c.samesite = Some("Lax".into());
            return (true, Some(c));
        }
        (self.accessed, None)
    }
}

/// What Python's `int(text)` accepts: surrounding whitespace, a sign, ASCII
/// digits with single underscores between them. The sign and the digits.
pub(crate) fn python_int_digits(text: &str) -> Option<(bool, String)> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let ok = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    ok.then(|| (neg, digits.replace('_', "")))
}

/// `IntegerField.to_python` (Python `int()`): None when it would raise.
fn pk_to_python(v: &Value) -> Option<Option<i64>> {
    match v {
        Value::Null => Some(None),
        Value::Bool(b) => Some(Some(*b as i64)),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .map(Some),
        Value::String(s) => {
            let (neg, digits) = python_int_digits(s)?;
            let n: i64 = digits.parse().ok()?;
            Some(Some(if neg { -n } else { n }))
        }
        _ => None,
    }
}

fn as_hash_str(v: &Value) -> Option<String> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `django.contrib.auth.get_user`: the authenticated user, or None for
/// AnonymousUser. May flush the session or cycle its key, as Django does.
pub async fn get_user(
    session: &mut Session,
    store: &SessionStore,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Option<UserRow>, SessionError> {
    resolve_user(session, store, settings, now, true).await
}

/// The user `get_user` would return when it would neither flush the session
/// nor cycle its key; None otherwise. Touches nothing but the caches, so it
/// can be asked before Django would evaluate `request.user`.
pub async fn peek_user(
    session: &mut Session,
    store: &SessionStore,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Option<UserRow>, SessionError> {
    let mut probe = session.clone();
    let user = resolve_user(&mut probe, store, settings, now, false).await;
    session.user_cache = probe.user_cache;
    session.load_cache = probe.load_cache;
    user
}

async fn resolve_user(
    session: &mut Session,
    store: &SessionStore,
    settings: &Settings,
    now: DateTime<Utc>,
    act: bool,
) -> Result<Option<UserRow>, SessionError> {
    session.load_with(store, now, act).await?;
    let (Some(raw_id), Some(backend)) = (
        session.data.get(SESSION_KEY),
        session.data.get(BACKEND_SESSION_KEY),
    ) else {
        return Ok(None);
    };
    let user_id =
        pk_to_python(raw_id).ok_or_else(|| SessionError::InvalidUserId(raw_id.to_string()))?;
    if backend.as_str() != Some(MODEL_BACKEND) {
        return Ok(None);
    }
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    // ModelBackend.get_user: missing or inactive → anonymous, no flush.
    let cached = match &session.user_cache {
        Some((id, row)) if *id == user_id => row.clone(),
        _ => {
            let row = db::find_user(&store.pool, &store.users, user_id).await?;
            session.user_cache = Some((user_id, row.clone()));
            row
        }
    };
    let Some(user) = cached else {
        return Ok(None);
    };
    if !user.is_active {
        return Ok(None);
    }
    let session_hash = session.data.get(HASH_SESSION_KEY).and_then(as_hash_str);
    let current = signing::session_auth_hash(&user.password, &settings.secret_key);
    let verified = session_hash.as_deref().is_some_and(|h| ct_eq(h, &current));
    if verified {
        return Ok(Some(user));
    }
    if let Some(h) = session_hash.as_deref() {
        if settings.django_version == DjangoVersion::V3_2 {
            // 3.2 accepts the legacy sha1 hash silently.
            if ct_eq(
                h,
                &signing::legacy_session_auth_hash(&user.password, &settings.secret_key),
            ) {
                return Ok(Some(user));
            }
        } else if !act {
            return Ok(None);
        } else if settings
            .secret_key_fallbacks
            .iter()
            .any(|k| ct_eq(h, &signing::session_auth_hash(&user.password, k)))
        {
            // 4.2+: a hash made with a fallback key keeps the user logged in
            // under a new session key carrying the current hash.
            session
                .data
                .insert(HASH_SESSION_KEY.into(), Value::String(current));
            session.cycle_key(store, now).await?;
            return Ok(Some(user));
        }
    }
    if act {
        session.flush(store).await?;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pk_conversion_is_pythons_int() {
        assert_eq!(pk_to_python(&Value::String(" 12 ".into())), Some(Some(12)));
        assert_eq!(pk_to_python(&Value::String("1_0".into())), Some(Some(10)));
        assert_eq!(pk_to_python(&Value::String("abc".into())), None);
        assert_eq!(pk_to_python(&serde_json::json!(3)), Some(Some(3)));
        assert_eq!(pk_to_python(&serde_json::json!([1])), None);
    }

    #[test]
    fn short_keys_are_no_session() {
        let s = Session::from_cookie(Some("abc"));
        assert!(s.cookie_sent && s.key.is_none() && s.is_empty());
        assert!(!Session::from_cookie(Some("abcdefgh")).is_empty());
    }
}
