//! `chunked-upload migrate`: create the tables a standalone deployment needs,
//! with Django's own DDL (`migrations/`), only where a table is missing, so it
//! is a no-op on a database Django already migrated.

use sqlx::PgPool;

use super::db::UploadTable;

/// (table, DDL) in dependency order: the upload's user FK needs `auth_user`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "auth_user",
        include_str!("../../migrations/0001_auth_user.sql"),
    ),
    (
        "django_session",
        include_str!("../../migrations/0002_django_session.sql"),
    ),
    (
        "chunked_upload_chunkedupload",
        include_str!("../../migrations/0003_chunked_upload.sql"),
    ),
    MD5_STATE,
];

/// Our own companion table (not Django's): the running md5 of each upload.
/// Deleting the upload row (Django's admin, `delete_expired_uploads`)
/// deletes it too (ON DELETE CASCADE).
pub const MD5_STATE: (&str, &str) = (
    "chunked_upload_md5_state",
    include_str!("../../migrations/0004_md5_state.sql"),
);

/// `serve` creates the companion table on a database Django migrated (for
/// a subclassed model: `<its table>_md5_state`, referencing that table).
pub async fn ensure_md5_state(pool: &PgPool, uploads: &UploadTable) -> Result<(), sqlx::Error> {
    let table = uploads.md5_state.as_str();
    let ddl = MD5_STATE
        .1
        .replace(&format!("\"{}\"", MD5_STATE.0), &format!("\"{table}\""))
        .replace(
            "\"chunked_upload_chunkedupload\"",
            &format!("\"{}\"", uploads.name),
        );
    if !table_exists(pool, table).await? && table_exists(pool, &uploads.name).await? {
        for statement in statements(&ddl) {
            // Two instances starting together may race; the loser's error is harmless.
            if let Err(e) = sqlx::raw_sql(&statement).execute(pool).await {
                if !table_exists(pool, table).await? {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

pub async fn table_exists(pool: &PgPool, table: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(table)
        .fetch_one(pool)
        .await
}

/// Apply each missing table's DDL in one transaction; returns what was created.
pub async fn migrate(pool: &PgPool) -> Result<Vec<&'static str>, sqlx::Error> {
    let mut created = Vec::new();
    for (table, ddl) in MIGRATIONS {
        if table_exists(pool, table).await? {
            continue;
        }
        let mut tx = pool.begin().await?;
        for statement in statements(ddl) {
            sqlx::raw_sql(&statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        created.push(*table);
    }
    Ok(created)
}

/// The statements of a `sqlmigrate` file, without BEGIN/COMMIT and comments.
fn statements(ddl: &str) -> Vec<String> {
    ddl.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .split(";\n")
        .map(|s| s.trim().trim_end_matches(';').trim().to_owned())
        .filter(|s| !s.is_empty() && s != "BEGIN" && s != "COMMIT")
        .collect()
}
