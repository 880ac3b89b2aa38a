//! Helpers shared by the integration tests: a fresh database on the test
//! cluster (`DATABASE_URL`) and a logged-in user as Django leaves one.
#![allow(dead_code)]

use chrono::{Duration, Utc};
use chunked_upload::django::{session, signing};
use serde_json::{Map, Value};
use sqlx::PgPool;

pub const SECRET: &str = "integration-test-secret";
pub const CSRF: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";

pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .expect("DATABASE_URL must point at a PostgreSQL server (scripts/test starts one)")
}

pub async fn fresh_database() -> String {
    fresh_database_on(&database_url()).await
}

pub async fn fresh_database_on(base: &str) -> String {
    let base = base.to_owned();
    let admin = PgPool::connect(&base)
        .await
        .expect("connect to DATABASE_URL");
    let name = format!("cu_it_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').expect("URL with a database");
    format!("{prefix}/{name}")
}

/// A user and a session row as `django.contrib.auth.login` leaves them.
pub async fn login(pool: &PgPool, username: &str, password: &str) -> (i64, String) {
    let id: i32 = sqlx::query_scalar(
        "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
         VALUES ($1, NULL, false, $2, '', '', '', false, true, now()) RETURNING id",
    )
    .bind(password)
    .bind(username)
    .fetch_one(pool)
    .await
    .unwrap();
    let mut data = Map::new();
    data.insert(session::SESSION_KEY.into(), Value::String(id.to_string()));
    data.insert(
        session::BACKEND_SESSION_KEY.into(),
        Value::String(session::MODEL_BACKEND.into()),
    );
    data.insert(
        session::HASH_SESSION_KEY.into(),
        Value::String(signing::session_auth_hash(password, SECRET)),
    );
    let key = format!("{:0>32}", uuid::Uuid::new_v4().simple().to_string());
    let encoded = signing::dumps(&data, SECRET, session::SESSION_SALT, Utc::now().timestamp());
    sqlx::query("INSERT INTO django_session VALUES ($1, $2, $3)")
        .bind(&key)
        .bind(encoded)
        .bind(Utc::now() + Duration::days(1))
        .execute(pool)
        .await
        .unwrap();
    (id as i64, key)
}
