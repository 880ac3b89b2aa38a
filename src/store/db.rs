//! The tables Django owns, read and written exactly as Django's ORM does.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Why a table could not be used: the database did not answer, or the
/// table is not what the settings say.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("cannot read the schema: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Schema(String),
}

/// The columns of `table` (none if it does not exist).
async fn columns_of(pool: &PgPool, table: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) \
         AND attnum > 0 AND NOT attisdropped",
    )
    .bind(table)
    .fetch_all(pool)
    .await
}

/// The default model's table (`chunked_upload.ChunkedUpload`).
pub const TABLE: &str = "chunked_upload_chunkedupload";
/// Our companion table for the default model (migrations/0004).
pub const MD5_STATE_TABLE: &str = "chunked_upload_md5_state";
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

/// The upload model's table: `chunked_upload_chunkedupload`, or a site's
/// own subclass of `AbstractChunkedUpload` (`CHUNKED_UPLOAD_TABLE`), which
/// may have no user field, or one of another name (`user_field_name`).
#[derive(Debug, Clone)]
pub struct UploadTable {
    pub name: String,
    /// The companion md5-state table for this upload table.
    pub md5_state: String,
    /// The column of the configured user field (`<user_field_name>_id`),
    /// when the table has it: what `get_queryset` filters on.
    pub user_column: Option<String>,
    /// The table has `user_id`: django-chunked-upload 2.0.0 creates uploads
    /// with `user=` whatever `user_field_name` says.
    pub has_user_id: bool,
}

/// Django's column for a foreign key field: its `attname`.
pub fn foreign_key_column(field: &str) -> String {
    format!("{field}_id")
}

impl UploadTable {
    /// The table as configured, assumed to have the user field's column
    /// and `user_id`.
    pub fn named(name: &str, user_field: &str) -> UploadTable {
        UploadTable {
            name: name.to_owned(),
            md5_state: if name == TABLE {
                MD5_STATE_TABLE.to_owned()
            } else {
                format!("{name}_md5_state")
            },
            user_column: Some(foreign_key_column(user_field)),
            has_user_id: true,
        }
    }

    /// Look the table up: it must have every column `AbstractChunkedUpload`
    /// declares; the user field's column is optional. A plain column named
    /// like the user field is refused: the views would filter on it with a
    /// user object, which the service does not reproduce.
    pub async fn inspect(
        pool: &PgPool,
        name: &str,
        user_field: &str,
    ) -> Result<UploadTable, InspectError> {
        let columns = columns_of(pool, name).await?;
        if columns.is_empty() {
            return Err(InspectError::Schema(format!("table {name} does not exist")));
        }
        for needed in [
            "id",
            "upload_id",
            "file",
            "filename",
            "offset",
            "created_on",
            "status",
            "completed_on",
        ] {
            if !columns.iter().any(|c| c == needed) {
                return Err(InspectError::Schema(format!(
                    "table {name} has no {needed} column (not an AbstractChunkedUpload table)"
                )));
            }
        }
        if columns.iter().any(|c| c == user_field) {
            return Err(InspectError::Schema(format!(
                "CHUNKED_UPLOAD_USER_FIELD_NAME: {user_field} is a plain column of table {name}, \
                 not a foreign key to the user model"
            )));
        }
        let user_column = foreign_key_column(user_field);
        Ok(UploadTable {
            user_column: columns.contains(&user_column).then_some(user_column),
            has_user_id: columns.iter().any(|c| c == "user_id"),
            ..UploadTable::named(name, user_field)
        })
    }

    // Casts keep us independent of whether `id` is serial, identity or bigint
    // (DJANGO_INTERNALS §7.1: a site may have run 0002_alter_chunkedupload_id).
    fn columns(&self, alias: &str) -> String {
        let user = match &self.user_column {
            Some(c) => format!(r#"{alias}"{c}"::bigint AS user_id"#),
            None => "NULL::bigint AS user_id".to_owned(),
        };
        format!(
            r#"{alias}id::bigint AS id, {alias}upload_id, {alias}file, {alias}filename, {alias}"offset", {alias}created_on, {alias}status, {alias}completed_on, {user}"#
        )
    }

    /// `get_queryset`: filtered to the user when there is a user field and one.
    fn user_filter(&self, alias: &str, param: &str) -> String {
        match &self.user_column {
            Some(c) => format!(r#" AND ({param}::bigint IS NULL OR {alias}"{c}" = {param})"#),
            // Every upload is visible; the parameter is still bound.
            None => format!(" AND ({param}::bigint IS NULL OR TRUE)"),
        }
    }
}

/// `get_object_or_404(queryset, upload_id=…)` where the queryset is filtered
/// to the user when there is one. With `lock`, the row stays locked for the
/// transaction so chunks of one upload are serialised across processes.
pub async fn find_upload(
    t: &UploadTable,
    tx: &mut Transaction<'_, Postgres>,
    upload_id: &str,
    user_id: Option<i64>,
    lock: bool,
) -> Result<Option<UploadRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM {} WHERE upload_id = $1{}{}",
        t.columns(""),
        t.name,
        t.user_filter("", "$2"),
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
    /// The user field's column and the user's id, for a logged-in user.
    pub user: Option<(&'a str, i64)>,
}

pub async fn insert_upload(
    t: &UploadTable,
    tx: &mut Transaction<'_, Postgres>,
    new: &NewUpload<'_>,
) -> Result<i64, sqlx::Error> {
    // Unset, a nullable foreign key is NULL as in Django's INSERT (no
    // database default).
    let (user_column, user_value) = match new.user {
        Some((column, id)) => (format!(r#", "{column}""#), Some(id)),
        None => (String::new(), None),
    };
    let user_param = if user_value.is_some() { ", $6" } else { "" };
    let sql = format!(
        r#"INSERT INTO {} (upload_id, file, filename, "offset", created_on, status, completed_on{user_column})
           VALUES ($1, $2, $3, $4, $5, {UPLOADING}, NULL{user_param}) RETURNING id::bigint"#,
        t.name
    );
    let mut query = sqlx::query_scalar(&sql)
        .bind(new.upload_id)
        .bind(new.file)
        .bind(new.filename)
        .bind(new.offset)
        .bind(new.created_on);
    if let Some(id) = user_value {
        query = query.bind(id);
    }
    query.fetch_one(&mut **tx).await
}

pub async fn set_offset(
    t: &UploadTable,
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    offset: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        r#"UPDATE {} SET "offset" = $2 WHERE id = $1"#,
        t.name
    ))
    .bind(id)
    .bind(offset)
    .execute(&mut **tx)
    .await
    .map(drop)
}

pub async fn mark_complete(
    t: &UploadTable,
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    completed_on: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE {} SET status = {COMPLETE}, completed_on = $2 WHERE id = $1",
        t.name
    ))
    .bind(id)
    .bind(completed_on)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Uploads whose `created_on + delta <= now`, as `delete_expired_uploads` selects them.
pub async fn expired_uploads(
    t: &UploadTable,
    pool: &PgPool,
    before: DateTime<Utc>,
) -> Result<Vec<UploadRow>, sqlx::Error> {
    sqlx::query_as::<_, UploadRow>(&format!(
        "SELECT {} FROM {} WHERE created_on < $1 ORDER BY id",
        t.columns(""),
        t.name
    ))
    .bind(before)
    .fetch_all(pool)
    .await
}

pub async fn delete_upload(t: &UploadTable, pool: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("DELETE FROM {} WHERE id = $1", t.name))
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

/// The table behind `AUTH_USER_MODEL`, as found in the database.
#[derive(Debug, Clone)]
pub struct UserTable {
    pub table: String,
    /// `AbstractBaseUser` has `is_active = True` as a class attribute; only
    /// models that declare the field have the column.
    pub has_is_active: bool,
}

impl UserTable {
    /// Look the table up: it must exist with `id` and `password` columns.
    pub async fn inspect(pool: &PgPool, table: &str) -> Result<UserTable, InspectError> {
        let columns = columns_of(pool, table).await?;
        if columns.is_empty() {
            return Err(InspectError::Schema(format!(
                "table {table} does not exist"
            )));
        }
        for needed in ["id", "password"] {
            if !columns.iter().any(|c| c == needed) {
                return Err(InspectError::Schema(format!(
                    "table {table} has no {needed} column"
                )));
            }
        }
        Ok(UserTable {
            table: table.to_owned(),
            has_is_active: columns.iter().any(|c| c == "is_active"),
        })
    }
}

pub async fn find_user(
    pool: &PgPool,
    users: &UserTable,
    id: i64,
) -> Result<Option<UserRow>, sqlx::Error> {
    let is_active = if users.has_is_active {
        "is_active"
    } else {
        "true"
    };
    sqlx::query_as::<_, UserRow>(&format!(
        "SELECT id::bigint AS id, password, {is_active} AS is_active FROM {} WHERE id = $1",
        users.table
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// `SessionStore._get_session_from_db`: the row (data and `expire_date`),
/// which must not be expired.
pub async fn load_session(
    pool: &PgPool,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT session_data, expire_date FROM django_session WHERE session_key = $1 AND expire_date > $2",
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

/// `save(must_create=True)`: false when the key is taken (`CreateError`).
pub async fn insert_session(
    pool: &PgPool,
    key: &str,
    data: &str,
    expire: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, $3) \
         ON CONFLICT (session_key) DO NOTHING",
    )
    .bind(key)
    .bind(data)
    .bind(expire)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The running md5 of an upload, valid for the first `offset` bytes of `file`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Md5State {
    pub file: String,
    pub offset: i64,
    pub state: Vec<u8>,
}

pub async fn save_md5_state(
    t: &UploadTable,
    tx: &mut Transaction<'_, Postgres>,
    upload_pk: i64,
    state: &Md5State,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        r#"INSERT INTO {} (upload_pk, file, "offset", state) VALUES ($1, $2, $3, $4)
           ON CONFLICT (upload_pk) DO UPDATE SET file = EXCLUDED.file, "offset" = EXCLUDED."offset", state = EXCLUDED.state"#,
        t.md5_state
    ))
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
    t: &UploadTable,
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
        r#"SELECT {}, s.file AS state_file, s."offset" AS state_offset, s.state
           FROM {} u LEFT JOIN {} s ON s.upload_pk = u.id
           WHERE u.upload_id = $1{} FOR UPDATE OF u"#,
        t.columns("u."),
        t.name,
        t.md5_state,
        t.user_filter("u.", "$2"),
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
    t: &UploadTable,
    tx: &mut Transaction<'_, Postgres>,
    upload_pk: i64,
    offset: i64,
    state: Option<&Md5State>,
) -> Result<(), sqlx::Error> {
    let Some(state) = state else {
        return set_offset(t, tx, upload_pk, offset).await;
    };
    sqlx::query(&format!(
        r#"WITH moved AS (UPDATE {} SET "offset" = $3 WHERE id = $1)
           INSERT INTO {} (upload_pk, file, "offset", state) VALUES ($1, $2, $3, $4)
           ON CONFLICT (upload_pk) DO UPDATE SET file = EXCLUDED.file, "offset" = EXCLUDED."offset", state = EXCLUDED.state"#,
        t.name,
        t.md5_state
    ))
    .bind(upload_pk)
    .bind(&state.file)
    .bind(offset)
    .bind(&state.state)
    .execute(&mut **tx)
    .await
    .map(drop)
}
