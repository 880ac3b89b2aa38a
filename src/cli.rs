//! The subcommands of CONTRACT.md: serve (default), migrate,
//! delete-expired-uploads and check.

use std::io::{BufRead, Write};
use std::sync::Arc;

use chrono::{Duration, Utc};
use clap::{Parser, Subcommand};

use crate::config::{Compat, RawSettings, Settings};
use crate::django::cache::RedisCache;
use crate::django::session_backends::Engine;
use crate::http::{self, App};
use crate::store::{db, migrate};

#[derive(Parser, Debug)]
#[command(
    name = "chunked-upload",
    version,
    about = "Drop-in Rust server for django-chunked-upload's two views"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the upload and complete URLs (the default).
    Serve(RawSettings),
    /// Create the tables a standalone deployment needs, where missing.
    Migrate(RawSettings),
    /// Delete expired uploads and their files, like Django's command.
    DeleteExpiredUploads {
        /// Prompt confirmation before each deletion.
        #[arg(long)]
        interactive: bool,
        #[command(flatten)]
        settings: RawSettings,
    },
    /// Validate configuration, database schema and MEDIA_ROOT.
    Check(RawSettings),
}

pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let command = match cli.command {
        Some(c) => c,
        // `chunked-upload` alone means `serve`, settings from the environment.
        None => Cli::parse_from(["chunked-upload", "serve"])
            .command
            .expect("serve"),
    };
    match command {
        Command::Serve(raw) => {
            let settings = Settings::from_raw(&raw)?;
            let pool = db::connect(
                &settings.database_url,
                settings.db_pool_size,
                Duration::seconds(settings.db_timeout_secs as i64).to_std()?,
            )
            .await?;
            let mut app = App::new(settings, pool.clone())?;
            match app.inspect_tables().await {
                Ok(()) => {}
                // A database that is not up yet: serve anyway (requests get
                // 500 until it is), assuming Django's default columns.
                Err(e @ db::InspectError::Db(_)) => tracing::warn!(
                    "database: {e}; assuming a user column and is_active until it answers"
                ),
                Err(e) => anyhow::bail!("database: {e}"),
            }
            if let Err(e) = migrate::ensure_md5_state(&pool, &app.uploads).await {
                tracing::warn!(
                    "cannot create chunked_upload_md5_state ({e}); completion will read files"
                );
                app.md5_state = false;
            }
            http::serve(Arc::new(app)).await?;
            Ok(0)
        }
        Command::Migrate(raw) => {
            let url = raw
                .database_url
                .clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| anyhow::anyhow!("DATABASE_URL: is required but not set"))?;
            let pool = db::connect(&url, 1, std::time::Duration::from_secs(10)).await?;
            let created = migrate::migrate(&pool).await?;
            if created.is_empty() {
                println!("No migrations to apply: all tables exist.");
            }
            for t in created {
                println!("Created table {t}.");
            }
            Ok(0)
        }
        Command::DeleteExpiredUploads {
            interactive,
            mut settings,
        } => {
            // The command never signs anything; the key is not needed.
            settings.secret_key.get_or_insert_with(|| "unused".into());
            let settings = Settings::from_raw(&settings)?;
            delete_expired(&settings, interactive).await
        }
        Command::Check(mut raw) => {
            raw.secret_key.get_or_insert_with(String::new);
            check(&raw).await
        }
    }
}

/// `chunked_upload/management/commands/delete_expired_uploads.py`.
async fn delete_expired(settings: &Settings, interactive: bool) -> anyhow::Result<i32> {
    let pool = db::connect(
        &settings.database_url,
        1,
        std::time::Duration::from_secs(10),
    )
    .await?;
    let mut app = App::new(settings.clone(), pool.clone())?;
    app.inspect_tables()
        .await
        .map_err(|e| anyhow::anyhow!("database: {e}"))?;
    let before = expired_before(settings, Utc::now());
    let (mut complete, mut incomplete) = (0, 0);
    let stdin = std::io::stdin();
    for row in db::expired_uploads(&app.uploads, &pool, before).await? {
        if interactive {
            let prompt = format!(
                "Do you want to delete <{} - upload_id: {} - bytes: {} - status: {}>? (y/n): ",
                row.filename, row.upload_id, row.offset, row.status
            );
            let answer = loop {
                print!("{prompt}");
                std::io::stdout().flush()?;
                let mut line = String::new();
                if stdin.lock().read_line(&mut line)? == 0 {
                    anyhow::bail!("EOF when reading a line");
                }
                let a = line.trim_end_matches(['\n', '\r']).to_lowercase();
                if a == "y" || a == "n" {
                    break a;
                }
            };
            if answer == "n" {
                continue;
            }
        }
        if row.status == db::COMPLETE {
            complete += 1;
        } else {
            incomplete += 1;
        }
        db::delete_upload(&app.uploads, &pool, row.id).await?;
        if !row.file.is_empty() {
            app.storage.delete(&row.file)?;
        }
    }
    println!("{complete} complete uploads were deleted.");
    println!("{incomplete} incomplete uploads were deleted.");
    Ok(0)
}

/// `timezone.now() - EXPIRATION_DELTA` as an instant: with USE_TZ=False
/// the subtraction happens on TIME_ZONE wall-clock time, which PostgreSQL
/// then reads in that zone (an ambiguous time as the later instant).
fn expired_before(settings: &Settings, now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    use chrono::TimeZone;
    let delta = Duration::seconds(settings.expiration_delta_secs);
    if settings.use_tz {
        return now - delta;
    }
    let wall = now.with_timezone(&settings.time_zone).naive_local() - delta;
    settings
        .time_zone
        .from_local_datetime(&wall)
        .latest()
        .map(|t| t.with_timezone(&Utc))
        // A wall time skipped by a DST change (one hour a year): as UTC.
        .unwrap_or_else(|| now - delta)
}

/// A user field the upload table lacks: a `CHUNKED_UPLOAD_USER_FIELD_NAME`
/// that names no column, or (2.0.0 with AuthenticationMiddleware) a model
/// the package's views fail on for every logged-in user.
fn user_field_problems(s: &Settings, t: &db::UploadTable) -> Vec<String> {
    let mut found = Vec::new();
    let column = db::foreign_key_column(&s.user_field_name);
    let table = &s.chunked_upload_table;
    let upstream = s.compat == Compat::Upstream && s.auth_required;
    if t.user_column.is_none() && (upstream || s.user_field_name != "user") {
        let effect = if upstream {
            "django-chunked-upload 2.0.0 answers 500 (FieldError) to a logged-in user's upload_id"
        } else {
            "the views filter uploads by no user: anyone may continue any upload"
        };
        found.push(format!(
            "CHUNKED_UPLOAD_USER_FIELD_NAME: table {table} has no column {column}; {effect}"
        ));
    }
    if upstream && !t.has_user_id {
        found.push(format!(
            "CHUNKED_UPLOAD_TABLE: table {table} has no user_id column; django-chunked-upload \
             2.0.0 creates every upload with user= (TypeError, 500 for a logged-in user)"
        ));
    }
    found
}

/// Print every problem found; exit 1 if any.
async fn check(raw: &RawSettings) -> anyhow::Result<i32> {
    let mut problems = Vec::new();
    let settings = match Settings::from_raw(raw) {
        Ok(s) => Some(s),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    if raw.secret_key.as_deref() == Some("") {
        problems.push("SECRET_KEY: is required but not set".into());
    }
    if let Some(s) = &settings {
        match tokio::time::timeout(std::time::Duration::from_secs(10), async {
            let pool = db::connect(&s.database_url, 1, std::time::Duration::from_secs(10)).await?;
            let mut found = Vec::new();
            if matches!(s.session_engine, Engine::Db | Engine::CachedDb)
                && !migrate::table_exists(&pool, "django_session").await?
            {
                found.push(
                    "database: table django_session is missing (run `chunked-upload migrate`)"
                        .to_owned(),
                );
            }
            // The upload and user tables must have the columns we use.
            let hint = |e: db::InspectError| {
                let e = e.to_string();
                if e.ends_with("does not exist") {
                    format!("{e} (run `chunked-upload migrate`, or Django's migrate)")
                } else {
                    e
                }
            };
            match db::UploadTable::inspect(&pool, &s.chunked_upload_table, &s.user_field_name).await
            {
                Ok(t) => found.extend(user_field_problems(s, &t)),
                // A user field that is a plain column names its own variable.
                Err(e) => match hint(e) {
                    e if e.starts_with("CHUNKED_UPLOAD_USER_FIELD_NAME") => found.push(e),
                    e => found.push(format!("CHUNKED_UPLOAD_TABLE: {e}")),
                },
            }
            if let Err(e) = db::UserTable::inspect(&pool, &s.auth_user_table).await {
                found.push(format!("AUTH_USER_TABLE: {}", hint(e)));
            }
            Ok::<_, sqlx::Error>(found)
        })
        .await
        {
            Ok(Ok(found)) => problems.extend(found),
            Ok(Err(e)) => problems.push(format!("DATABASE_URL: cannot use the database: {e}")),
            Err(_) => problems.push("DATABASE_URL: the database did not answer within 10 s".into()),
        }
        if let Some(config) = &s.session_cache {
            let reachable = match RedisCache::new(config.clone()) {
                Ok(cache) => tokio::time::timeout(std::time::Duration::from_secs(10), cache.ping())
                    .await
                    .map_err(|_| "no answer within 10 s".to_owned())
                    .and_then(|r| r.map_err(|e| e.to_string())),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = reachable {
                problems.push(format!("CACHES: {} is not reachable: {e}", config.location));
            }
        }
        if s.session_engine == Engine::File {
            let probe = s.session_file_path.join(".chunked-upload-check");
            match std::fs::write(&probe, b"") {
                Ok(()) => {
                    let _ = std::fs::remove_file(&probe);
                }
                Err(e) => problems.push(format!(
                    "SESSION_FILE_PATH: {} is not writable: {e}",
                    s.session_file_path.display()
                )),
            }
        }
        let probe = s.media_root.join(".chunked-upload-check");
        match std::fs::create_dir_all(&s.media_root).and_then(|_| std::fs::write(&probe, b"")) {
            Ok(()) => {
                let _ = std::fs::remove_file(&probe);
            }
            Err(e) => problems.push(format!(
                "MEDIA_ROOT: {} is not writable: {e}",
                s.media_root.display()
            )),
        }
    }
    if problems.is_empty() {
        println!("System check identified no issues.");
        Ok(0)
    } else {
        for p in &problems {
            println!("{p}");
        }
        println!("System check identified {} issue(s).", problems.len());
        Ok(1)
    }
}
