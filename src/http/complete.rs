//! `ChunkedUploadCompleteView._post`.

use serde_json::json;

use super::response::Reply;
use super::Ctx;
use std::sync::atomic::Ordering;

use crate::config::Compat;
use crate::django::form::FormData;
use crate::store::db::{self, Md5State, COMPLETE};
use crate::store::files;

pub async fn post(ctx: &mut Ctx<'_>, form: FormData) -> Reply {
    let app = ctx.app;
    let do_md5_check = app.settings.do_md5_check;
    let upload_id = form.get("upload_id").filter(|s| !s.is_empty());
    let md5 = form.get("md5").filter(|s| !s.is_empty());
    let upload_id = match (upload_id, md5) {
        (Some(upload_id), Some(_)) => upload_id,
        (Some(upload_id), None) if !do_md5_check => upload_id,
        _ if do_md5_check => return ctx.detail(400, "Both 'upload_id' and 'md5' are required"),
        _ => return ctx.detail(400, "'upload_id' is required"),
    };
    let user_id = match ctx.queryset_user().await {
        Ok(u) => u,
        Err(reply) => return reply,
    };
    let mut tx = match app.pool.begin().await {
        Ok(tx) => tx,
        Err(e) => return ctx.internal("database", e),
    };
    let found = if app.md5_state {
        db::lock_upload_with_md5_state(&app.uploads, &mut tx, upload_id, user_id).await
    } else {
        db::find_upload(&app.uploads, &mut tx, upload_id, user_id, true)
            .await
            .map(|r| r.map(|row| (row, None)))
    };
    let (row, state) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Reply::not_found(app.version()),
        Err(e) => return ctx.internal("database", e),
    };
    // 2.0.0 `return`s this error instead of raising it, so a complete upload
    // is completed again (completed_on moves); 2.1.0 raises it.
    if row.status == COMPLETE && app.settings.compat == Compat::Patched {
        return ctx.detail(400, "Upload has already been marked as complete");
    }
    // `do_md5_check = False` never reads `ChunkedUpload.md5`: no hashing.
    if let (true, Some(md5)) = (do_md5_check, md5) {
        let digest = match md5_of_upload(ctx, &row, state).await {
            Ok(d) => d,
            Err(e) => return ctx.internal("reading upload for md5", e),
        };
        if digest != md5 {
            return ctx.detail(400, "md5 checksum does not match");
        }
    }
    if let Err(e) = db::mark_complete(&app.uploads, &mut tx, row.id, ctx.now).await {
        return ctx.internal("database", e);
    }
    if let Err(e) = tx.commit().await {
        return ctx.internal("database", e);
    }
    ctx.json(200, &json!({}))
}

/// `ChunkedUpload.md5`: from the stored running state when it covers exactly
/// the file as it is (constant time), else by reading the whole file once,
/// which is what Django hashes (a file longer than its offset included).
async fn md5_of_upload(
    ctx: &Ctx<'_>,
    row: &db::UploadRow,
    state: Option<Md5State>,
) -> Result<String, String> {
    let app = ctx.app;
    let storage = app.storage.clone();
    let name = row.file.clone();
    let on_disk = tokio::task::spawn_blocking(move || storage.len(&name).ok())
        .await
        .map_err(|e| e.to_string())?;
    let current = state
        .filter(|s| {
            s.file == row.file && s.offset == row.offset && on_disk == Some(row.offset as u64)
        })
        .and_then(|s| files::md5_from_state(&s.state));
    if let Some(h) = current {
        return Ok(files::md5_hex_of(&h));
    }
    app.stats.full_md5_reads.fetch_add(1, Ordering::Relaxed);
    tracing::info!(
        "upload {}: no current md5 state, reading {} to hash it",
        row.upload_id,
        row.file
    );
    let storage = app.storage.clone();
    let name = row.file.clone();
    match tokio::task::spawn_blocking(move || storage.md5_hex(&name)).await {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}
