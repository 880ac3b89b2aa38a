//! The tables Django owns, read and written exactly as Django's ORM does.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub const TABLE: &str = "chunked_upload_chunkedupload";
/// `chunked_upload.constants`: UPLOADING = 1, COMPLETE = 2.
pub const UPLOADING: i16 = 1;
pub const COMPLETE: i16 = 2;

pub async fn connect(url: &str, size: u32, timeout: Duration) -> Result<PgPool, sqlx::Error> {
    // Django's connection uses TimeZone=UTC when USE_TZ=True; our timestamps
    // are always bound as timestamptz, so the session zone does not matter.
    let opts = PgConnectOptions::from_str(url)?.application_name("chunked-upload");
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(timeout)
        .connect_lazy_with(opts))
}

/// One row of `chunked_upload_chunkedupload`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadRow {
    pub id: i64,
    pub upload_id: String,
    pub file: String,
    pub filename: String,
    pub offset: i64,
    pub created_on: DateTime<Utc>,
    pub status: i16,
    pub completed_on: Option<DateTime<Utc>>,
    pub user_id: Option<i64>,
}

// Casts keep us independent of whether `id` is serial, identity or bigint
// (DJANGO_INTERNALS §7.1: a site may have run 0002_alter_chunkedupload_id).
const COLUMNS: &str = r#"id::bigint AS id, upload_id, file, filename, "offset", created_on, status, completed_on, user_id::bigint AS user_id"#;

/// `get_object_or_404(queryset, upload_id=…)` where the queryset is filtered
/// to the user when there is one. With `lock`, the row stays locked for the
/// transaction so chunks of one upload are serialised across processes.
pub async fn find_upload(
    tx: &mut Transaction<'_, Postgres>,
    upload_id: &str,
    user_id: Option<i64>,
    lock: bool,
) -> Result<Option<UploadRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {TABLE} WHERE upload_id = $1 AND ($2::bigint IS NULL OR user_id = $2){}",
        if lock { " FOR UPDATE" } else { "" }
    );
    sqlx::query_as::<_, UploadRow>(&sql)
        .bind(upload_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
}

pub struct NewUpload<'a> {
    pub upload_id: &'a str,
    pub file: &'a str,
    pub filename: &'a str,
    pub offset: i64,
    pub created_on: DateTime<Utc>,
    pub user_id: Option<i64>,
}

pub async fn insert_upload(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewUpload<'_>,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        r#"INSERT INTO {TABLE} (upload_id, file, filename, "offset", created_on, status, completed_on, user_id)
           VALUES ($1, $2, $3, $4, $5, {UPLOADING}, NULL, $6) RETURNING id::bigint"#
    );
    sqlx::query_scalar(&sql)
        .bind(new.upload_id)
        .bind(new.file)
        .bind(new.filename)
        .bind(new.offset)
        .bind(new.created_on)
        .bind(new.user_id)
        .fetch_one(&mut **tx)
        .await
}

pub async fn set_offset(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    offset: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        r#"UPDATE {TABLE} SET "offset" = $2 WHERE id = $1"#
    ))
    .bind(id)
    .bind(offset)
    .execute(&mut **tx)
    .await
    .map(drop)
}

pub async fn mark_complete(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    completed_on: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE {TABLE} SET status = {COMPLETE}, completed_on = $2 WHERE id = $1"
    ))
    .bind(id)
    .bind(completed_on)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Uploads whose `created_on + delta <= now`, as `delete_expired_uploads` selects them.
pub async fn expired_uploads(
    pool: &PgPool,
    before: DateTime<Utc>,
) -> Result<Vec<UploadRow>, sqlx::Error> {
    sqlx::query_as::<_, UploadRow>(&format!(
        "SELECT {COLUMNS} FROM {TABLE} WHERE created_on < $1 ORDER BY id"
    ))
    .bind(before)
    .fetch_all(pool)
    .await
}

pub async fn delete_upload(pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("DELETE FROM {TABLE} WHERE id = $1"))
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
}

/// The user columns `AuthenticationMiddleware` needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub password: String,
    pub is_active: bool,
}

pub async fn find_user(
    pool: &PgPool,
    table: &str,
    id: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as::<_, UserRow>(&format!(
        "SELECT id::bigint AS id, password, is_active FROM {table} WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// `SessionStore._get_session_from_db`: the row must not be expired.
pub async fn load_session(
    pool: &PgPool,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT session_data FROM django_session WHERE session_key = $1 AND expire_date > $2",
    )
    .bind(key)
    .bind(now)
    .fetch_optional(pool)
    .await
}

pub async fn delete_session(pool: &PgPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM django_session WHERE session_key = $1")
        .bind(key)
        .execute(pool)
        .await
        .map(drop)
}

pub async fn insert_session(
    pool: &PgPool,
    key: &str,
    data: &str,
    expire: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, $3)",
    )
    .bind(key)
    .bind(data)
    .bind(expire)
    .execute(pool)
    .await
    .map(drop)
}

/// The running md5 of an upload, valid for the first `offset` bytes of `file`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Md5State {
    pub file: String,
    pub offset: i64,
    pub state: Vec<u8>,
}

pub async fn save_md5_state(
    tx: &mut Transaction<'_, Postgres>,
    upload_pk: i64,
    state: &Md5State,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO chunked_upload_md5_state (upload_pk, file, "offset", state) VALUES ($1, $2, $3, $4)
           ON CONFLICT (upload_pk) DO UPDATE SET file = EXCLUDED.file, "offset" = EXCLUDED."offset", state = EXCLUDED.state"#,
    )
    .bind(upload_pk)
    .bind(&state.file)
    .bind(state.offset)
    .bind(&state.state)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// `find_upload` (locked) with its md5 state, in one round trip.
pub async fn lock_upload_with_md5_state(
    tx: &mut Transaction<'_, Postgres>,
    upload_id: &str,
    user_id: Option<i64>,
) -> Result<Option<(UploadRow, Option<Md5State>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Joined {
        #[sqlx(flatten)]
        row: UploadRow,
        state_file: Option<String>,
        state_offset: Option<i64>,
        state: Option<Vec<u8>>,
    }
    let sql = format!(
        r#"SELECT u.id::bigint AS id, u.upload_id, u.file, u.filename, u."offset", u.created_on, u.status,
                  u.completed_on, u.user_id::bigint AS user_id,
                  s.file AS state_file, s."offset" AS state_offset, s.state
           FROM {TABLE} u LEFT JOIN chunked_upload_md5_state s ON s.upload_pk = u.id
           WHERE u.upload_id = $1 AND ($2::bigint IS NULL OR u.user_id = $2) FOR UPDATE OF u"#
    );
    let joined: Option<Joined> = sqlx::query_as(&sql)
        .bind(upload_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(joined.map(|j| {
        let state = match (j.state_file, j.state_offset, j.state) {
            (Some(file), Some(offset), Some(state)) => Some(Md5State {
                file,
                offset,
                state,
            }),
            _ => None,
        };
        (j.row, state)
    }))
}

/// The new offset and the md5 state that covers it, in one statement.
pub async fn advance(
    tx: &mut Transaction<'_, Postgres>,
    upload_pk: i64,
    offset: i64,
    state: Option<&Md5State>,
) -> Result<(), sqlx::Error> {
    let Some(state) = state else {
        return set_offset(tx, upload_pk, offset).await;
    };
    sqlx::query(&format!(
        r#"WITH moved AS (UPDATE {TABLE} SET "offset" = $3 WHERE id = $1)
           INSERT INTO chunked_upload_md5_state (upload_pk, file, "offset", state) VALUES ($1, $2, $3, $4)
           ON CONFLICT (upload_pk) DO UPDATE SET file = EXCLUDED.file, "offset" = EXCLUDED."offset", state = EXCLUDED.state"#
    ))
    .bind(upload_pk)
    .bind(&state.file)
    .bind(offset)
    .bind(&state.state)
    .execute(&mut **tx)
    .await
    .map(drop)
}
