//! `ChunkedUploadView._post`: every check in the order the Python view makes
//! it, with the chunk streamed to its place while the body is still arriving.
//!
//! When the `file` part starts, the fields before it usually name the upload
//! (`upload_id`), the session names the user, and `Content-Range` the offset:
//! then the row is locked and the bytes go straight into the `.part` file at
//! the recorded offset, hashed on the way (the md5 state is stored with the
//! upload, so completion needs no re-read). A first chunk goes straight into
//! the new upload's file. Anything else (fields after the file, an upload that
//! will be refused) is spooled to a temporary file. The view then decides on
//! the final fields, exactly as Django does; a refused chunk is cut back out.

use std::path::PathBuf;

use bytes::Bytes;
use chrono::Duration;
use md5::{Digest, Md5};
use serde_json::json;
use sqlx::{Postgres, Transaction};

use super::response::Reply;
use super::{App, Ctx};
use crate::config::Permission;
use crate::django::form::{FileSink, FormData};
use crate::django::multipart::ParseError;
use crate::django::session;
use crate::store::db::{self, Md5State, NewUpload, UploadRow, COMPLETE};
use crate::store::files::{self, ChunkWriter, Written};

/// `content_range_pattern`: `^bytes (\d+)-(\d+)/(\d+)$`. Python ints are
/// unbounded; numbers beyond u128 saturate, which no real offset equals.
pub fn parse_content_range(value: &str) -> Option<(u128, u128, u128)> {
    let rest = value.strip_prefix("bytes ")?;
    let (start, rest) = rest.split_once('-')?;
    let (end, total) = rest.split_once('/')?;
    let num = |s: &str| -> Option<u128> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(s.parse::<u128>().unwrap_or(u128::MAX))
    };
    Some((num(start)?, num(end)?, num(total)?))
}

/// Where the bytes of the `file` part went.
#[derive(Debug)]
enum Landing {
    /// Into an existing upload's file at its recorded offset (row locked).
    InPlace {
        row_id: i64,
        file: String,
        start: u64,
    },
    /// Into the file of a new upload, created for it.
    NewFile {
        upload_id: String,
        file: String,
        created_dirs: Vec<PathBuf>,
    },
    /// Into an unnamed temporary file.
    Spool,
}

#[derive(Debug)]
struct Received {
    landing: Landing,
    written: Written,
    /// `chunk.name`.
    name: String,
}

/// The upload row locked by this request's transaction, with its md5 state
/// when that state covers exactly the bytes the row records.
#[derive(Debug, Clone)]
struct Locked {
    row: UploadRow,
    md5: Option<Md5>,
}

/// Receives the `file` part of an upload request.
pub struct UploadSink<'a, 'c> {
    ctx: &'a mut Ctx<'c>,
    tx: Option<Transaction<'static, Postgres>>,
    locked: Vec<Locked>,
    writing: Option<(Landing, ChunkWriter, String)>,
    received: Option<Received>,
}

/// What the body left for the view: the open transaction, the locked rows
/// and the received chunk. `abandon` undoes it when the view does not run.
pub struct Pending {
    tx: Option<Transaction<'static, Postgres>>,
    locked: Vec<Locked>,
    received: Option<Received>,
}

fn internal(what: &str, e: impl std::fmt::Display) -> ParseError {
    ParseError::Internal(format!("{what}: {e}"))
}

impl<'a, 'c> UploadSink<'a, 'c> {
    pub fn new(ctx: &'a mut Ctx<'c>) -> Self {
        UploadSink {
            ctx,
            tx: None,
            locked: Vec::new(),
            writing: None,
            received: None,
        }
    }

    /// The state for the view; an unfinished part (a parse error) is undone.
    pub async fn finish(mut self) -> Pending {
        if let Some((landing, writer, _)) = self.writing.take() {
            // Whether the writer ended well or failed (disk full), cut it out.
            let _ = writer.finish().await;
            undo_landing(self.ctx, &landing).await;
        }
        Pending {
            tx: self.tx,
            locked: self.locked,
            received: self.received,
        }
    }

    async fn tx(&mut self) -> Result<&mut Transaction<'static, Postgres>, ParseError> {
        if self.tx.is_none() {
            self.tx = Some(
                self.ctx
                    .app
                    .pool
                    .begin()
                    .await
                    .map_err(|e| internal("database", e))?,
            );
        }
        Ok(self.tx.as_mut().expect("just begun"))
    }

    /// Pick the landing for a `file` part given the fields read so far.
    async fn choose(
        &mut self,
        fields: &[(String, String)],
    ) -> Result<(Landing, std::fs::File, u64, Option<Md5>), ParseError> {
        let app = self.ctx.app;
        let Some(user_id) = self.guess_user().await else {
            return spool(self.ctx).await;
        };
        let range = super::header(self.ctx.headers, "content-range").and_then(parse_content_range);
        if range.is_none() && app.settings.fail_if_no_header {
            return spool(self.ctx).await;
        }
        if let (Some(max), Some((_, _, total))) = (app.settings.max_bytes, range) {
            if total > max as u128 {
                return spool(self.ctx).await;
            }
        }
        let start = range.map_or(0, |r| r.0);
        let upload_id = fields
            .iter()
            .rev()
            .find(|(n, _)| n == "upload_id")
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty());
        let Some(upload_id) = upload_id else {
            if start != 0 || (user_id.is_some() && app.create_breaks_for_users()) {
                return spool(self.ctx).await;
            }
            let upload_id = uuid::Uuid::new_v4().simple().to_string();
            let storage = app.storage.clone();
            let wanted = storage.upload_to(&upload_id, self.ctx.now);
            let created = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
                let mut dirs = Vec::new();
                let file = storage.create_empty_tracked(&wanted, &mut dirs)?;
                let handle = storage.open_at(&file, 0)?;
                Ok((file, dirs, handle))
            })
            .await
            .map_err(|e| internal("creating upload file", e))?
            .map_err(|e| internal("creating upload file", e))?;
            let (file, created_dirs, handle) = created;
            let landing = Landing::NewFile {
                upload_id,
                file,
                created_dirs,
            };
            return Ok((landing, handle, 0, Some(Md5::new())));
        };
        if user_id.is_some() && app.lookup_breaks_for_users() {
            return spool(self.ctx).await;
        }
        let filter = user_id.filter(|_| app.uploads.user_column.is_some());
        let locked = match self.locked.iter().find(|l| l.row.upload_id == upload_id) {
            Some(l) => l.clone(),
            None => {
                // Only a guess made early: any error here is met again by the
                // view, in Django's order (after `request.user`), so spool.
                let Ok(tx) = self.tx().await else {
                    return spool(self.ctx).await;
                };
                match lock_upload(app, tx, upload_id, filter).await {
                    Ok(Some(l)) => {
                        self.locked.push(l.clone());
                        l
                    }
                    Ok(None) => return spool(self.ctx).await,
                    Err(e) => {
                        tracing::debug!("early upload lookup: {e}");
                        // The failed statement aborted the transaction.
                        self.tx = None;
                        return spool(self.ctx).await;
                    }
                }
            }
        };
        let row = &locked.row;
        let expired = app.clock().expired(
            row.created_on,
            Duration::seconds(app.settings.expiration_delta_secs),
            self.ctx.now,
        );
        if expired || row.status == COMPLETE || start != row.offset as u128 {
            return spool(self.ctx).await;
        }
        let storage = app.storage.clone();
        let (file, offset) = (row.file.clone(), row.offset as u64);
        let opened = tokio::task::spawn_blocking(move || storage.open_at(&file, offset))
            .await
            .map_err(|e| internal("opening upload file", e))?;
        let handle = match opened {
            Ok(h) => h,
            // The view will refuse it, in its turn.
            Err(e) if files::is_short_file(&e) => return spool(self.ctx).await,
            Err(e) => return Err(internal("opening upload file", e)),
        };
        let landing = Landing::InPlace {
            row_id: row.id,
            file: row.file.clone(),
            start: offset,
        };
        Ok((landing, handle, offset, locked.md5.clone()))
    }
}

impl UploadSink<'_, '_> {
    /// `request.user` as the view will see it where it reads it, asked
    /// before Django would and without its side effects: Some(None) for an
    /// anonymous user, None when that cannot be told yet (a session that
    /// `get_user` would flush or rotate, or a refused anonymous user).
    async fn guess_user(&mut self) -> Option<Option<i64>> {
        let app = self.ctx.app;
        if !app.settings.auth_required {
            return Some(None);
        }
        let permission = app.settings.permission;
        if permission == Permission::Anyone && !app.view_reads_user() {
            return Some(None);
        }
        let ctx = &mut *self.ctx;
        match session::peek_user(&mut ctx.session, &app.sessions, &app.settings, ctx.now).await {
            Ok(Some(u)) => Some(Some(u.id)),
            // Without a session key `get_user` is AnonymousUser and changes nothing.
            Ok(None) if permission == Permission::Anyone && ctx.session.key.is_none() => Some(None),
            _ => None,
        }
    }
}

async fn spool(ctx: &Ctx<'_>) -> Result<(Landing, std::fs::File, u64, Option<Md5>), ParseError> {
    let dir = ctx.app.settings.file_upload_temp_dir.clone();
    let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir))
        .await
        .map_err(|e| internal("temporary file", e))?
        .map_err(|e| internal("temporary file", e))?;
    Ok((Landing::Spool, file, 0, None))
}

/// `get_object_or_404(queryset.filter(user=…), upload_id=…)`, locked for the
/// transaction, with the md5 state if it covers exactly `offset` bytes.
async fn lock_upload(
    app: &App,
    tx: &mut Transaction<'static, Postgres>,
    upload_id: &str,
    user_id: Option<i64>,
) -> Result<Option<Locked>, sqlx::Error> {
    if !app.md5_state {
        let row = db::find_upload(&app.uploads, tx, upload_id, user_id, true).await?;
        return Ok(row.map(|row| Locked { row, md5: None }));
    }
    let Some((row, state)) =
        db::lock_upload_with_md5_state(&app.uploads, tx, upload_id, user_id).await?
    else {
        return Ok(None);
    };
    let md5 = state
        .filter(|s| s.file == row.file && s.offset == row.offset)
        .and_then(|s| files::md5_from_state(&s.state));
    Ok(Some(Locked { row, md5 }))
}

impl FileSink for UploadSink<'_, '_> {
    async fn start(
        &mut self,
        fields: &[(String, String)],
        file_name: String,
    ) -> Result<(), ParseError> {
        // A later part of the same name replaces this one (last wins).
        if let Some(previous) = self.received.take() {
            undo(self.ctx, previous).await;
        }
        let (landing, file, at, md5) = self.choose(fields).await?;
        let fsync = self.ctx.app.settings.fsync;
        self.writing = Some((landing, ChunkWriter::start(file, at, md5, fsync), file_name));
        Ok(())
    }

    async fn data(&mut self, piece: Bytes) -> Result<(), ParseError> {
        let (_, writer, _) = self.writing.as_mut().expect("data after start");
        writer
            .write(piece)
            .await
            .map_err(|e| internal("writing chunk", e))
    }

    async fn interrupted(&mut self) {
        if let Some(last) = self.received.take() {
            undo(self.ctx, last).await;
        }
    }

    async fn end(&mut self) -> Result<(), ParseError> {
        let (landing, writer, name) = self.writing.take().expect("end after start");
        match writer.finish().await {
            Ok(written) => {
                self.received = Some(Received {
                    landing,
                    written,
                    name,
                });
                Ok(())
            }
            Err(e) => {
                undo_landing(self.ctx, &landing).await;
                Err(internal("writing chunk", e))
            }
        }
    }
}

/// Take back what a received chunk wrote.
async fn undo(ctx: &Ctx<'_>, received: Received) {
    undo_landing(ctx, &received.landing).await;
}

async fn undo_landing(ctx: &Ctx<'_>, landing: &Landing) {
    let storage = ctx.app.storage.clone();
    let result = match landing {
        Landing::InPlace { file, start, .. } => {
            let (file, start) = (file.clone(), *start);
            tokio::task::spawn_blocking(move || storage.truncate(&file, start)).await
        }
        Landing::NewFile {
            file, created_dirs, ..
        } => {
            let (file, dirs) = (file.clone(), created_dirs.clone());
            tokio::task::spawn_blocking(move || {
                storage.remove_created(&file, &dirs);
                Ok(())
            })
            .await
        }
        Landing::Spool => return,
    };
    if let Ok(Err(e)) | Err(e) = result.map_err(std::io::Error::other) {
        tracing::error!("undoing a refused chunk: {e}");
    }
}

impl Pending {
    /// The view did not run (CSRF refusal, parse error, 403): undo everything.
    pub async fn abandon(self, ctx: &Ctx<'_>) {
        if let Some(r) = self.received {
            undo(ctx, r).await;
        }
    }
}

/// Who `_post` sees: the user the upload lookup is filtered to, or the one
/// a new upload is created for (with the column that records it).
enum ViewUser<'a> {
    Lookup(Option<i64>),
    Create(Option<(&'a str, i64)>),
}

pub async fn post<'a>(ctx: &mut Ctx<'a>, form: FormData, pending: Pending) -> Reply {
    let Pending {
        tx,
        locked,
        received,
    } = pending;
    let Some(received) = received else {
        return ctx.detail(400, "No chunk file was submitted");
    };
    // Right after the chunk check, `get_queryset` (an upload_id) or the
    // create path (none) is where `_post` first reads `request.user`.
    let user = if form.get("upload_id").is_some_and(|s| !s.is_empty()) {
        ctx.queryset_user().await.map(ViewUser::Lookup)
    } else {
        ctx.creating_user().await.map(ViewUser::Create)
    };
    let user = match user {
        Ok(u) => u,
        Err(reply) => {
            undo(ctx, received).await;
            return reply;
        }
    };
    let mut tx = match tx {
        Some(tx) => tx,
        None => match ctx.app.pool.begin().await {
            Ok(tx) => tx,
            Err(e) => {
                undo(ctx, received).await;
                return ctx.internal("database", e);
            }
        },
    };
    // Every undo happens before the transaction ends: while the row is
    // locked, no other request can be writing where we cut.
    let outcome = decide(ctx, user, &form, &mut tx, locked, &received).await;
    match outcome {
        Ok(Outcome::Stored { reply, in_place }) => {
            if !in_place {
                // Copied to their place: drop where they first landed.
                undo(ctx, received).await;
            }
            match tx.commit().await {
                Ok(()) => reply,
                // Not recorded: the bytes past the offset are cut by the next chunk.
                Err(e) => ctx.internal("database", e),
            }
        }
        Ok(Outcome::Refused { reply, new_upload }) => {
            match (&received.landing, new_upload) {
                // The new upload's file stays, empty, as Django's does (T28).
                (Landing::NewFile { file, .. }, true) => {
                    if let Err(e) = ctx.app.storage.truncate(file, 0) {
                        tracing::error!("emptying a refused first chunk: {e}");
                    }
                }
                _ => undo(ctx, received).await,
            }
            drop(tx);
            reply
        }
        Err(reply) => {
            undo(ctx, received).await;
            drop(tx);
            reply
        }
    }
}

enum Outcome {
    Stored {
        reply: Reply,
        in_place: bool,
    },
    /// Refused by the view; `new_upload` when the request made a new upload.
    Refused {
        reply: Reply,
        new_upload: bool,
    },
}

async fn decide(
    ctx: &mut Ctx<'_>,
    user: ViewUser<'_>,
    form: &FormData,
    tx: &mut Transaction<'static, Postgres>,
    locked: Vec<Locked>,
    received: &Received,
) -> Result<Outcome, Reply> {
    let app = ctx.app;
    let (user_id, creator) = match user {
        ViewUser::Lookup(filter) => (filter, None),
        ViewUser::Create(creator) => (None, creator),
    };
    let existing = match form.get("upload_id").filter(|s| !s.is_empty()) {
        Some(upload_id) => {
            // Rows locked while the body arrived were looked up for the same user.
            let already = locked.into_iter().find(|l| {
                l.row.upload_id == upload_id && (user_id.is_none() || l.row.user_id == user_id)
            });
            let found = match already {
                Some(l) => Some(l),
                None => lock_upload(app, tx, upload_id, user_id)
                    .await
                    .map_err(|e| ctx.internal("database", e))?,
            };
            let Some(l) = found else {
                return Ok(Outcome::Refused {
                    reply: Reply::not_found(app.version()),
                    new_upload: false,
                });
            };
            let delta = Duration::seconds(app.settings.expiration_delta_secs);
            if app.clock().expired(l.row.created_on, delta, ctx.now) {
                return Ok(Outcome::Refused {
                    reply: ctx.detail(410, "Upload has expired"),
                    new_upload: false,
                });
            }
            if l.row.status == COMPLETE {
                let reply = ctx.detail(400, "Upload has already been marked as \"complete\"");
                return Ok(Outcome::Refused {
                    reply,
                    new_upload: false,
                });
            }
            Some(l)
        }
        None => None,
    };
    // `create_chunked_upload` saves the empty file before the checks below,
    // so a refused first chunk leaves it behind, as Django does (T28).
    let new_file = match (&existing, &received.landing) {
        (Some(_), _) => None,
        (
            None,
            Landing::NewFile {
                upload_id, file, ..
            },
        ) => Some((upload_id.clone(), file.clone())),
        (None, _) => {
            let upload_id = uuid::Uuid::new_v4().simple().to_string();
            let storage = app.storage.clone();
            let wanted = storage.upload_to(&upload_id, ctx.now);
            let path = tokio::task::spawn_blocking(move || storage.create_empty(&wanted))
                .await
                .map_err(|e| ctx.internal("creating upload file", e))?
                .map_err(|e| ctx.internal("creating upload file", e))?;
            Some((upload_id, path))
        }
    };
    let new_upload = existing.is_none();
    let refuse = |reply: Reply| Ok(Outcome::Refused { reply, new_upload });

    let size = received.written.size as u128;
    let range = super::header(ctx.headers, "content-range").and_then(parse_content_range);
    if range.is_none() && app.settings.fail_if_no_header {
        return refuse(ctx.detail(400, "Error in request headers"));
    }
    let (start, end, total) = range.unwrap_or((0, size.wrapping_sub(1), size));
    if let Some(max) = app.settings.max_bytes {
        if total > max as u128 {
            return refuse(ctx.detail(
                400,
                &format!("Size of file exceeds the limit ({max} bytes)"),
            ));
        }
    }
    let offset = existing.as_ref().map_or(0, |l| l.row.offset);
    if start != offset as u128 {
        return refuse(ctx.json(
            400,
            &json!({"detail": "Offsets do not match", "offset": offset}),
        ));
    }
    // chunk_size = end - start + 1 may be zero or negative in Python.
    let size_matches =
        range.is_none() || end.checked_add(1).and_then(|e| e.checked_sub(start)) == Some(size);
    if !size_matches {
        return refuse(ctx.detail(400, "File size doesn't match headers"));
    }
    let new_offset = offset + received.written.size as i64;

    // Put the bytes in their place (unless they are there already) and
    // bring the md5 state to the new offset.
    let (target, row_id, prior_md5) = match &existing {
        Some(l) => (l.row.file.clone(), Some(l.row.id), l.md5.clone()),
        None => {
            let (_, path) = new_file.as_ref().expect("new upload has a file");
            (path.clone(), None, Some(Md5::new()))
        }
    };
    let in_place = match (&received.landing, row_id) {
        (
            Landing::InPlace {
                row_id: landed,
                start,
                ..
            },
            Some(id),
        ) => *landed == id && *start == offset as u64,
        (Landing::NewFile { file, .. }, None) => *file == target,
        _ => false,
    };
    let md5 = if in_place {
        received.written.md5.clone()
    } else {
        copy_chunk(ctx, received, &target, offset as u64, prior_md5).await?
    };
    // No current state (Django wrote earlier chunks): hash the file once,
    // unless completion never checks it (`do_md5_check = False`).
    let md5 = match md5 {
        Some(h) => Some(h),
        None if app.md5_state && app.settings.do_md5_check => {
            let storage = app.storage.clone();
            let name = target.clone();
            let h =
                tokio::task::spawn_blocking(move || storage.md5_prefix(&name, new_offset as u64))
                    .await
                    .map_err(|e| ctx.internal("hashing upload", e))?
                    .map_err(|e| ctx.internal("hashing upload", e))?;
            Some(h)
        }
        None => None,
    };
    let state = md5.filter(|_| app.md5_state).map(|h| Md5State {
        file: target,
        offset: new_offset,
        state: files::md5_to_state(&h),
    });
    let (upload_id, created_on) = match existing {
        Some(l) => {
            db::advance(&app.uploads, tx, l.row.id, new_offset, state.as_ref())
                .await
                .map_err(|e| ctx.internal("database", e))?;
            (l.row.upload_id, l.row.created_on)
        }
        None => {
            let (upload_id, path) = new_file.expect("new upload has a file");
            let new = NewUpload {
                upload_id: &upload_id,
                file: &path,
                filename: &received.name,
                offset: new_offset,
                created_on: ctx.now,
                user: creator,
            };
            let pk = db::insert_upload(&app.uploads, tx, &new)
                .await
                .map_err(|e| ctx.internal("database", e))?;
            if let Some(state) = &state {
                db::save_md5_state(&app.uploads, tx, pk, state)
                    .await
                    .map_err(|e| ctx.internal("database", e))?;
            }
            (upload_id, ctx.now)
        }
    };
    let expires = app.clock().json_after(
        created_on,
        Duration::seconds(app.settings.expiration_delta_secs),
    );
    let reply = ctx.json(
        200,
        &json!({"upload_id": upload_id, "offset": new_offset, "expires": expires}),
    );
    Ok(Outcome::Stored { reply, in_place })
}

/// Copy a chunk from where it landed into `target` at `at`, advancing `md5`.
async fn copy_chunk(
    ctx: &Ctx<'_>,
    received: &Received,
    target: &str,
    at: u64,
    md5: Option<Md5>,
) -> Result<Option<Md5>, Reply> {
    let storage = ctx.app.storage.clone();
    let (src_at, len) = match &received.landing {
        Landing::InPlace { start, .. } => (*start, received.written.size),
        _ => (0, received.written.size),
    };
    let mut src = received
        .written
        .file
        .try_clone()
        .map_err(|e| ctx.internal("reading chunk", e))?;
    let target = target.to_owned();
    let fsync = ctx.app.settings.fsync;
    let copied = tokio::task::spawn_blocking(move || -> std::io::Result<Option<Md5>> {
        let mut dst = storage.open_at(&target, at)?;
        let mut md5 = md5;
        files::copy_into(&mut src, src_at, &mut dst, at, len, md5.as_mut())?;
        if fsync {
            dst.sync_data()?;
        }
        Ok(md5)
    })
    .await
    .map_err(|e| ctx.internal("writing chunk", e))?;
    copied.map_err(|e| {
        if files::is_short_file(&e) {
            // Not Django's answer: Django would append and corrupt silently.
            ctx.json(
                409,
                &json!({"detail": "Upload file is missing or shorter than its offset", "offset": at}),
            )
        } else {
            ctx.internal("writing chunk", e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_range_like_the_view_regex() {
        assert_eq!(parse_content_range("bytes 0-10/11"), Some((0, 10, 11)));
        assert_eq!(parse_content_range("bytes=0-10/11"), None);
        assert_eq!(parse_content_range("bytes 0-10/"), None);
        assert_eq!(parse_content_range("bytes -1-10/11"), None);
        assert_eq!(parse_content_range("bytes 0-10/11 "), None);
        assert_eq!(
            parse_content_range("bytes 0-99999999999999999999999999999999999999999/1"),
            Some((0, u128::MAX, 1))
        );
    }
}
