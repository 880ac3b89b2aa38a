//! `ChunkedUploadView._post`: every check in the order the Python view makes
//! it, then the chunk written at the recorded offset and the row saved.

use chrono::Duration;
use serde_json::json;

use super::response::Reply;
use super::Ctx;
use crate::django::form::{FormData, SpooledFile};
use crate::django::json::format_datetime_utc;
use crate::store::db::{self, NewUpload, UploadRow, COMPLETE};

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

fn expires(ctx: &Ctx<'_>, row_created: chrono::DateTime<chrono::Utc>) -> String {
    format_datetime_utc(&(row_created + Duration::seconds(ctx.app.settings.expiration_delta_secs)))
}

pub async fn post(ctx: &mut Ctx<'_>, user_id: Option<i64>, mut form: FormData) -> Reply {
    let Some(mut chunk) = form.file.take() else {
        return ctx.detail(400, "No chunk file was submitted");
    };
    let app = ctx.app;
    let mut tx = match app.pool.begin().await {
        Ok(tx) => tx,
        Err(e) => return ctx.internal("database", e),
    };
    let existing: Option<UploadRow> = match form.get("upload_id").filter(|s| !s.is_empty()) {
        Some(upload_id) => {
            // The row stays locked until commit: chunks of one upload are
            // serialised across processes (Django's view races here).
            let row = match db::find_upload(&mut tx, upload_id, user_id, true).await {
                Ok(Some(row)) => row,
                Ok(None) => return super::Reply::not_found(app.version()),
                Err(e) => return ctx.internal("database", e),
            };
            let expires_on = row.created_on + Duration::seconds(app.settings.expiration_delta_secs);
            if expires_on <= ctx.now {
                return ctx.detail(410, "Upload has expired");
            }
            if row.status == COMPLETE {
                return ctx.detail(400, "Upload has already been marked as \"complete\"");
            }
            Some(row)
        }
        None => None,
    };
    // `create_chunked_upload` saves the empty file before any check below,
    // so a refused first chunk leaves it behind, as Django does (T28).
    let new_upload = match &existing {
        Some(_) => None,
        None => {
            let upload_id = uuid::Uuid::new_v4().simple().to_string();
            let storage = app.storage.clone();
            let wanted = storage.upload_to(&upload_id, ctx.now);
            match flatten(tokio::task::spawn_blocking(move || storage.create_empty(&wanted)).await)
            {
                Ok(path) => Some((upload_id, path)),
                Err(e) => return ctx.internal("creating upload file", e),
            }
        }
    };

    let size = chunk.size as u128;
    let range = super::header(ctx.headers, "content-range").and_then(parse_content_range);
    let (start, end, total) = range.unwrap_or((0, size.wrapping_sub(1), size));
    if let Some(max) = app.settings.max_bytes {
        if total > max as u128 {
            return ctx.detail(
                400,
                &format!("Size of file exceeds the limit ({max} bytes)"),
            );
        }
    }
    let offset = existing.as_ref().map_or(0, |r| r.offset);
    if start != offset as u128 {
        return ctx.json(
            400,
            &json!({"detail": "Offsets do not match", "offset": offset}),
        );
    }
    // chunk_size = end - start + 1 may be zero or negative in Python.
    let chunk_size_matches = if range.is_some() {
        end.checked_add(1).and_then(|e| e.checked_sub(start)) == Some(size)
    } else {
        true
    };
    if !chunk_size_matches {
        return ctx.detail(400, "File size doesn't match headers");
    }
    let new_offset = offset + chunk.size as i64;

    let result = match existing {
        Some(row) => {
            let storage = app.storage.clone();
            let name = row.file.clone();
            let write = tokio::task::spawn_blocking(move || {
                storage.write_chunk(&name, row.offset as u64, &mut chunk.file)
            })
            .await;
            if let Err(e) = flatten(write) {
                return ctx.internal("writing chunk", e);
            }
            if let Err(e) = db::set_offset(&mut tx, row.id, new_offset).await {
                return ctx.internal("database", e);
            }
            (row.upload_id, row.created_on)
        }
        None => {
            let (upload_id, path) = new_upload.expect("created above");
            match create_upload(ctx, &mut tx, user_id, chunk, &upload_id, &path, new_offset).await {
                Ok(()) => (upload_id, ctx.now),
                Err(reply) => return reply,
            }
        }
    };
    if let Err(e) = tx.commit().await {
        return ctx.internal("database", e);
    }
    let (upload_id, created_on) = result;
    ctx.json(
        200,
        &json!({"upload_id": upload_id, "offset": new_offset, "expires": expires(ctx, created_on)}),
    )
}

/// `append_chunk` + `save` for a new upload whose empty file exists.
async fn create_upload(
    ctx: &Ctx<'_>,
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    user_id: Option<i64>,
    chunk: SpooledFile,
    upload_id: &str,
    path: &str,
    offset: i64,
) -> Result<(), Reply> {
    let app = ctx.app;
    let storage = app.storage.clone();
    let SpooledFile { mut file, name, .. } = chunk;
    let target = path.to_owned();
    let written =
        tokio::task::spawn_blocking(move || storage.write_chunk(&target, 0, &mut file)).await;
    flatten(written).map_err(|e| ctx.internal("writing chunk", e))?;
    let new = NewUpload {
        upload_id,
        file: path,
        filename: &name,
        offset,
        created_on: ctx.now,
        user_id,
    };
    db::insert_upload(tx, &new)
        .await
        .map_err(|e| ctx.internal("database", e))?;
    Ok(())
}

fn flatten<T>(r: Result<std::io::Result<T>, tokio::task::JoinError>) -> Result<T, String> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
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
