//! The running md5 of each upload, advanced behind the answers.
//!
//! A chunk is answered once its bytes are written and its offset committed;
//! its md5 is then advanced by a job that reads the bytes back from the page
//! cache, so hashing chunk N overlaps receiving chunk N+1. Jobs of one upload
//! form a lane: each starts when the one before it ended (its md5 state is
//! the starting point), and a chunk's answer waits for the job before its
//! own, so at most one chunk's hash is ever behind. The state is stored in
//! `chunked_upload_md5_state` only for committed bytes; a job whose chunk was
//! not committed, or a crash, leaves the stored state behind, and a stale
//! state is never trusted (the next job or the completion hashes the file).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use md5::Md5;
use sqlx::PgPool;
use tokio::sync::{oneshot, watch};

use super::db::{self, Md5State};
use super::files::{self, Storage};

struct Frontier {
    file: String,
    offset: i64,
    md5: Md5,
}

#[derive(Default)]
struct Lane {
    /// The md5 after the last finished job.
    frontier: Option<Frontier>,
    /// Becomes true when the last scheduled job has finished.
    last: Option<watch::Receiver<bool>>,
    queued: usize,
}

pub struct HashLanes {
    pool: PgPool,
    storage: Storage,
    lanes: Mutex<HashMap<String, Lane>>,
}

/// A scheduled job: fire `committed` once the chunk's transaction committed
/// (drop it if it did not); `previous` finishes when the job before it has.
pub struct Scheduled {
    pub committed: oneshot::Sender<()>,
    pub previous: Option<watch::Receiver<bool>>,
}

impl Scheduled {
    /// The chunk is committed: let its job run, and wait for the one before.
    pub async fn committed(self) {
        let _ = self.committed.send(());
        if let Some(p) = self.previous {
            finished(p).await;
        }
    }
}

async fn finished(mut r: watch::Receiver<bool>) {
    // A job that panicked dropped its sender: it is finished too.
    let _ = r.wait_for(|done| *done).await;
}

impl HashLanes {
    pub fn new(pool: PgPool, storage: Storage) -> Arc<HashLanes> {
        Arc::new(HashLanes {
            pool,
            storage,
            lanes: Mutex::new(HashMap::new()),
        })
    }

    /// Advance the md5 of upload `upload_id` (row `pk`) over the chunk
    /// `[start, end)` of `file`. Call it while the row is still locked, so
    /// that jobs are queued in the order of the offsets.
    pub fn schedule(
        self: &Arc<Self>,
        upload_id: &str,
        pk: i64,
        file: &str,
        start: i64,
        end: i64,
    ) -> Scheduled {
        let (done_tx, done_rx) = watch::channel(false);
        let (committed_tx, committed_rx) = oneshot::channel::<()>();
        let previous = {
            let mut lanes = self.lanes.lock().expect("lanes");
            let lane = lanes.entry(upload_id.to_owned()).or_default();
            lane.queued += 1;
            lane.last.replace(done_rx)
        };
        let this = self.clone();
        let (upload_id, file) = (upload_id.to_owned(), file.to_owned());
        let wait_for = previous.clone();
        tokio::spawn(async move {
            if let Some(p) = wait_for {
                finished(p).await;
            }
            let committed = committed_rx.await.is_ok();
            this.run(&upload_id, pk, file, start, end, committed).await;
            let _ = done_tx.send(true);
            let mut lanes = this.lanes.lock().expect("lanes");
            if let Some(lane) = lanes.get_mut(&upload_id) {
                lane.queued -= 1;
                if lane.queued == 0 {
                    lanes.remove(&upload_id);
                }
            }
        });
        Scheduled {
            committed: committed_tx,
            previous,
        }
    }

    /// Wait until every job of the upload has finished (its state is stored).
    pub async fn settle(&self, upload_id: &str) {
        let last = {
            let lanes = self.lanes.lock().expect("lanes");
            lanes.get(upload_id).and_then(|l| l.last.clone())
        };
        if let Some(r) = last {
            finished(r).await;
        }
    }

    async fn run(
        &self,
        upload_id: &str,
        pk: i64,
        file: String,
        start: i64,
        end: i64,
        committed: bool,
    ) {
        let frontier = {
            let mut lanes = self.lanes.lock().expect("lanes");
            lanes.get_mut(upload_id).and_then(|l| l.frontier.take())
        };
        if !committed {
            return; // The chunk was refused after all: the lane starts over.
        }
        let mut md5 = frontier
            .filter(|f| f.file == file && f.offset == start)
            .map(|f| f.md5);
        if md5.is_none() {
            // Another process, or Django, wrote the chunk before: the stored state may do.
            if let Ok(Some(s)) = db::load_md5_state(&self.pool, pk).await {
                if s.file == file && s.offset == start {
                    md5 = files::md5_from_state(&s.state);
                }
            }
        }
        let storage = self.storage.clone();
        let name = file.clone();
        let hashed = tokio::task::spawn_blocking(move || match md5 {
            Some(mut h) => storage
                .md5_range(&name, start as u64, end as u64, &mut h)
                .map(|_| h),
            // No state that ends where this chunk starts: hash the file once.
            None => storage.md5_prefix(&name, end as u64),
        })
        .await;
        let md5 = match hashed {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return tracing::warn!("upload {upload_id}: hashing {file}: {e}"),
            Err(e) => return tracing::warn!("upload {upload_id}: hashing {file}: {e}"),
        };
        let state = Md5State {
            file: file.clone(),
            offset: end,
            state: files::md5_to_state(&md5),
        };
        if let Err(e) = db::save_md5_state_forward(&self.pool, pk, &state).await {
            tracing::warn!("upload {upload_id}: storing the md5 state: {e}");
        }
        let mut lanes = self.lanes.lock().expect("lanes");
        if let Some(lane) = lanes.get_mut(upload_id) {
            lane.frontier = Some(Frontier {
                file,
                offset: end,
                md5,
            });
        }
    }
}
