//! `ChunkedUploadCompleteView._post`.

use serde_json::json;

use super::response::Reply;
use super::Ctx;
use crate::config::Compat;
use crate::django::form::FormData;
use crate::store::db::{self, COMPLETE};

pub async fn post(ctx: &mut Ctx<'_>, user_id: Option<i64>, form: FormData) -> Reply {
    let app = ctx.app;
    let upload_id = form.get("upload_id").filter(|s| !s.is_empty());
    let md5 = form.get("md5").filter(|s| !s.is_empty());
    let (Some(upload_id), Some(md5)) = (upload_id, md5) else {
        return ctx.detail(400, "Both 'upload_id' and 'md5' are required");
    };
    let mut tx = match app.pool.begin().await {
        Ok(tx) => tx,
        Err(e) => return ctx.internal("database", e),
    };
    let row = match db::find_upload(&mut tx, upload_id, user_id, true).await {
        Ok(Some(row)) => row,
        Ok(None) => return Reply::not_found(app.version()),
        Err(e) => return ctx.internal("database", e),
    };
    // 2.0.0 `return`s this error instead of raising it, so a complete upload
    // is completed again (completed_on moves); 2.1.0 raises it.
    if row.status == COMPLETE && app.settings.compat == Compat::Patched {
        return ctx.detail(400, "Upload has already been marked as complete");
    }
    let storage = app.storage.clone();
    let name = row.file.clone();
    let digest = match tokio::task::spawn_blocking(move || storage.md5_hex(&name)).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return ctx.internal("reading upload for md5", e),
        Err(e) => return ctx.internal("reading upload for md5", e),
    };
    if digest != md5 {
        return ctx.detail(400, "md5 checksum does not match");
    }
    if let Err(e) = db::mark_complete(&mut tx, row.id, ctx.now).await {
        return ctx.internal("database", e);
    }
    if let Err(e) = tx.commit().await {
        return ctx.internal("database", e);
    }
    ctx.json(200, &json!({}))
}
