//! The real service over loopback HTTP against a real PostgreSQL (the cluster
//! `scripts/test` starts; `DATABASE_URL` points at it). Each test gets its
//! own database, migrated with our `migrations/`, and its own MEDIA_ROOT.
//! The byte-for-byte comparison with Django lives in `compat-tests/`.

use std::sync::Arc;

use chunked_upload::config::{RawSettings, Settings};
use chunked_upload::http::{serve_on, App};
use chunked_upload::store::migrate;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use sqlx::PgPool;

mod common;

use common::{fresh_database, fresh_database_on, login, CSRF, SECRET};

struct Site {
    base: String,
    app: Arc<App>,
    pool: PgPool,
    media: tempfile::TempDir,
    user_id: i64,
    cookie: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn site() -> Site {
    site_with(|_| {}).await
}

async fn site_with(adjust: impl FnOnce(&mut RawSettings)) -> Site {
    site_on(fresh_database().await, adjust).await
}

async fn site_on(url: String, adjust: impl FnOnce(&mut RawSettings)) -> Site {
    let pool = PgPool::connect(&url).await.unwrap();
    migrate::migrate(&pool).await.unwrap();
    let media = tempfile::tempdir().unwrap();
    let raw = RawSettings {
        database_url: Some(url),
        secret_key: Some(SECRET.into()),
        media_root: Some(media.path().to_string_lossy().into_owned()),
        chunked_upload_compat: Some("patched".into()),
        django_version: Some("5.2".into()),
        ..Default::default()
    };
    let mut raw = raw;
    adjust(&mut raw);
    let settings = Settings::from_raw(&raw).unwrap();
    // The service's pool, built as `serve` builds it (size, DB_TIMEOUT).
    let service_pool = chunked_upload::store::db::connect(
        &settings.database_url,
        settings.db_pool_size,
        std::time::Duration::from_secs(settings.db_timeout_secs),
    )
    .await
    .unwrap();
    let app = Arc::new(App::new(settings, service_pool).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_on(app.clone(), listener, async {
        let _ = stopped.await;
    }));
    let (user_id, key) = login(&pool, "alice", "pbkdf2_sha256$1$salt$hash-of-alice").await;
    Site {
        base,
        app,
        pool,
        media,
        user_id,
        cookie: format!("sessionid={key}; csrftoken={CSRF}"),
        _stop: stop,
    }
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Site {
    async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<&[u8]>,
        range: Option<&str>,
    ) -> Answer {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        if let Some(data) = file {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(data.to_vec()).file_name("big file.bin"),
            );
        }
        let mut req = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .header("X-CSRFToken", CSRF)
            .multipart(form);
        if let Some(r) = range {
            req = req.header("Content-Range", r);
        }
        let resp = req.send().await.unwrap();
        Answer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    async fn complete(&self, upload_id: &str, md5: &str) -> Answer {
        let fields = [("upload_id", upload_id), ("md5", md5)];
        self.post("/api/chunked_upload_complete/", &fields, None, None)
            .await
    }

    /// What Django's `append_chunk` + `save()` do: `open(path, 'ab').write`,
    /// then the row's offset. Our md5 state is then stale.
    async fn append_like_django(&self, upload_id: &str, bytes: &[u8]) {
        use std::io::Write;
        let (file, _, offset, ..) = self.row(upload_id).await;
        let path = self.media.path().join(file);
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(bytes).unwrap();
        sqlx::query(
            r#"UPDATE chunked_upload_chunkedupload SET "offset" = $2 WHERE upload_id = $1"#,
        )
        .bind(upload_id)
        .bind(offset + bytes.len() as i64)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    async fn chunk(&self, upload_id: Option<&str>, data: &[u8], range: Option<&str>) -> Answer {
        let fields: Vec<(&str, &str)> = upload_id
            .map(|id| vec![("upload_id", id)])
            .unwrap_or_default();
        self.post("/api/chunked_upload/", &fields, Some(data), range)
            .await
    }

    async fn row(&self, upload_id: &str) -> (String, String, i64, i16, Option<i64>) {
        sqlx::query_as(
            r#"SELECT file, filename, "offset", status, user_id::bigint FROM chunked_upload_chunkedupload WHERE upload_id = $1"#,
        )
        .bind(upload_id)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test]
async fn upload_in_three_chunks_then_complete() {
    let s = site().await;
    let data = content(300_000, 7);
    let first = s
        .chunk(None, &data[..100_000], Some("bytes 0-99999/300000"))
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.header("vary"), Some("Cookie"));
    assert_eq!(first.header("x-frame-options"), Some("DENY"));
    let id = first.json()["upload_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert_eq!(first.json()["offset"], json!(100_000));
    let second = s
        .chunk(
            Some(&id),
            &data[100_000..250_000],
            Some("bytes 100000-249999/300000"),
        )
        .await;
    assert_eq!(second.json()["offset"], json!(250_000));
    assert_eq!(second.json()["expires"], first.json()["expires"]);
    let third = s
        .chunk(
            Some(&id),
            &data[250_000..],
            Some("bytes 250000-299999/300000"),
        )
        .await;
    assert_eq!(third.status, 200);

    let (file, filename, offset, status, user) = s.row(&id).await;
    assert!(
        file.starts_with("chunked_uploads/") && file.ends_with(&format!("{id}.part")),
        "{file}"
    );
    assert_eq!(
        (filename.as_str(), offset, status, user),
        ("big file.bin", 300_000, 1, Some(s.user_id))
    );
    assert_eq!(std::fs::read(s.media.path().join(&file)).unwrap(), data);

    let md5 = chunked_upload::store::files::hex(&Md5::digest(&data));
    let done = s.complete(&id, &md5).await;
    assert_eq!((done.status, done.body.as_str()), (200, "{}"));
    assert_eq!(s.row(&id).await.3, 2);
    let again = s.complete(&id, &md5).await;
    assert_eq!(
        again.body,
        r#"{"detail": "Upload has already been marked as complete"}"#
    );
}

#[tokio::test]
async fn wrong_offset_size_and_md5_are_refused_and_change_nothing() {
    let s = site().await;
    let first = s.chunk(None, b"hello", None).await;
    let id = first.json()["upload_id"].as_str().unwrap().to_owned();
    let skip = s.chunk(Some(&id), b"world", Some("bytes 6-10/11")).await;
    assert_eq!(
        (skip.status, skip.body.as_str()),
        (400, r#"{"detail": "Offsets do not match", "offset": 5}"#)
    );
    let short = s.chunk(Some(&id), b"wor", Some("bytes 5-9/10")).await;
    assert_eq!(
        short.body,
        r#"{"detail": "File size doesn't match headers"}"#
    );
    assert_eq!(s.row(&id).await.2, 5);
    let bad = s.complete(&id, "0").await;
    assert_eq!(bad.body, r#"{"detail": "md5 checksum does not match"}"#);
    let missing = s
        .post(
            "/api/chunked_upload_complete/",
            &[("upload_id", &id)],
            None,
            None,
        )
        .await;
    assert_eq!(
        missing.body,
        r#"{"detail": "Both 'upload_id' and 'md5' are required"}"#
    );
    let unknown = s
        .chunk(Some("0123456789abcdef0123456789abcdef"), b"x", None)
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("<h1>Not Found</h1>"));
}

#[tokio::test]
async fn anonymous_csrf_and_password_change() {
    let s = site().await;
    let anon = reqwest::Client::new()
        .post(format!("{}/api/chunked_upload/", s.base))
        .header("Cookie", format!("csrftoken={CSRF}"))
        .header("X-CSRFToken", CSRF)
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 403);
    assert_eq!(
        anon.text().await.unwrap(),
        r#"{"detail": "Authentication credentials were not provided"}"#
    );

    let no_cookie = reqwest::Client::new()
        .post(format!("{}/api/chunked_upload/", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(no_cookie.status(), 403);
    assert!(no_cookie.headers().get("vary").is_none());
    assert!(no_cookie
        .text()
        .await
        .unwrap()
        .contains("CSRF verification failed"));

    let get = reqwest::get(format!("{}/api/chunked_upload", s.base))
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST, OPTIONS");

    sqlx::query("UPDATE auth_user SET password = 'changed' WHERE id = $1")
        .bind(s.user_id as i32)
        .execute(&s.pool)
        .await
        .unwrap();
    let flushed = s.chunk(None, b"x", None).await;
    assert_eq!(flushed.status, 403);
    assert_eq!(
        flushed.header("set-cookie"),
        Some(
            r#"sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax"#
        )
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM django_session")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(
        left, 0,
        "the session row is deleted, as session.flush() does"
    );
}

fn full_reads(s: &Site) -> u64 {
    s.app
        .stats
        .full_md5_reads
        .load(std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test]
async fn completion_uses_the_running_md5_unless_django_wrote_a_chunk() {
    let s = site().await;
    let data = content(3 << 20, 3);
    let md5 = chunked_upload::store::files::hex(&Md5::digest(&data));

    // All chunks through us: the stored state is current, the file is not read.
    let first = s
        .chunk(None, &data[..1 << 20], Some("bytes 0-1048575/3145728"))
        .await;
    let id = first.json()["upload_id"].as_str().unwrap().to_owned();
    s.chunk(
        Some(&id),
        &data[1 << 20..],
        Some("bytes 1048576-3145727/3145728"),
    )
    .await;
    let done = s.complete(&id, &md5).await;
    assert_eq!((done.status, done.body.as_str()), (200, "{}"));
    assert_eq!(
        full_reads(&s),
        0,
        "completion re-read a file whose md5 state was current"
    );

    // A chunk appended the way Django's `append_chunk` + `save()` does it
    // (open(path, 'ab').write, then the row's offset): the state is stale,
    // so completion reads the file once, and still answers right.
    let second = s.chunk(None, &data[..1 << 20], None).await;
    let id2 = second.json()["upload_id"].as_str().unwrap().to_owned();
    s.append_like_django(&id2, &data[1 << 20..]).await;
    let wrong = s.complete(&id2, &"0".repeat(32)).await;
    assert_eq!(wrong.body, r#"{"detail": "md5 checksum does not match"}"#);
    assert_eq!(full_reads(&s), 1);
    let done = s.complete(&id2, &md5).await;
    assert_eq!((done.status, done.body.as_str()), (200, "{}"));
    assert_eq!(full_reads(&s), 2, "a stale state must never be trusted");
}

#[tokio::test]
async fn a_chunk_after_a_stale_state_rehashes_once_and_keeps_the_state_current() {
    let s = site().await;
    let data = content(2 << 20, 9);
    let md5 = chunked_upload::store::files::hex(&Md5::digest(&data));
    let first = s.chunk(None, &data[..1000], None).await;
    let id = first.json()["upload_id"].as_str().unwrap().to_owned();
    // The state goes stale (as when Django writes a chunk) ...
    s.append_like_django(&id, &data[1000..5000]).await;
    // ... our next chunk re-hashes the file once and stores a current state.
    let next = s
        .chunk(
            Some(&id),
            &data[5000..],
            Some(&format!("bytes 5000-{}/{}", data.len() - 1, data.len())),
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.body);
    let done = s.complete(&id, &md5).await;
    assert_eq!((done.status, done.body.as_str()), (200, "{}"));
    assert_eq!(full_reads(&s), 0);
}

#[tokio::test]
async fn a_refused_chunk_leaves_file_and_state_as_they_were() {
    let s = site().await;
    let data = content(10_000, 1);
    let first = s.chunk(None, &data[..4000], None).await;
    let id = first.json()["upload_id"].as_str().unwrap().to_owned();
    let (file, ..) = s.row(&id).await;
    // Written in place while the body arrived, then refused: size mismatch.
    let bad = s
        .chunk(Some(&id), &data[4000..], Some("bytes 4000-9998/10000"))
        .await;
    assert_eq!(bad.body, r#"{"detail": "File size doesn't match headers"}"#);
    assert_eq!(
        std::fs::read(s.media.path().join(&file)).unwrap(),
        &data[..4000]
    );
    let ok = s
        .chunk(Some(&id), &data[4000..], Some("bytes 4000-9999/10000"))
        .await;
    assert_eq!(ok.json()["offset"], json!(10_000));
    let md5 = chunked_upload::store::files::hex(&Md5::digest(&data));
    let done = s.complete(&id, &md5).await;
    assert_eq!(done.body, "{}");
    assert_eq!(full_reads(&s), 0);
}

async fn offset_of(s: &Site, id: &str) -> i64 {
    s.row(id).await.2
}

fn file_of(s: &Site, file: &str) -> Vec<u8> {
    std::fs::read(s.media.path().join(file)).unwrap()
}

#[tokio::test]
async fn a_short_or_missing_part_file_is_refused_and_nothing_changes() {
    let s = site().await;
    let data = content(8000, 5);
    let id = s.chunk(None, &data[..4000], None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (file, ..) = s.row(&id).await;
    let path = s.media.path().join(&file);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1000)
        .unwrap();
    let r = s
        .chunk(Some(&id), &data[4000..], Some("bytes 4000-7999/8000"))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        r#"{"detail": "Upload file is missing or shorter than its offset", "offset": 4000}"#
    );
    assert_eq!(
        (offset_of(&s, &id).await, file_of(&s, &file).len()),
        (4000, 1000)
    );
    std::fs::remove_file(&path).unwrap();
    let r = s
        .chunk(Some(&id), &data[4000..], Some("bytes 4000-7999/8000"))
        .await;
    assert_eq!(r.status, 409);
    assert!(
        !path.exists(),
        "a missing file is not recreated with a hole"
    );
    assert_eq!(offset_of(&s, &id).await, 4000);
}

#[tokio::test]
async fn an_unwritable_part_file_is_a_500_and_the_offset_stays() {
    let s = site().await;
    let id = s.chunk(None, b"abcd", None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (file, ..) = s.row(&id).await;
    let path = s.media.path().join(&file);
    // Root ignores permissions: a directory where the file should be cannot be written.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    let r = s.chunk(Some(&id), b"efgh", Some("bytes 4-7/8")).await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("Server Error (500)"));
    assert_eq!(offset_of(&s, &id).await, 4);
}

/// A raw request whose body stops after `sent` bytes of the chunk.
async fn partial_chunk(
    s: &Site,
    upload_id: &str,
    chunk_len: usize,
    sent: usize,
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let boundary = "PartialBoundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"upload_id\"\r\n\r\n{upload_id}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let length = head.len() + chunk_len + tail.len();
    let addr = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /api/chunked_upload/ HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nX-CSRFToken: {CSRF}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n{head}",
        s.cookie
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(&vec![b'Z'; sent]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

#[tokio::test]
async fn a_client_that_goes_away_mid_chunk_leaves_the_upload_as_it_was() {
    let s = site().await;
    let data = content(6000, 2);
    let id = s.chunk(None, &data[..3000], None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (file, ..) = s.row(&id).await;
    let stream = partial_chunk(&s, &id, 200_000, 100_000).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(stream);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        file_of(&s, &file),
        &data[..3000],
        "the partial chunk was cut back out"
    );
    assert_eq!(offset_of(&s, &id).await, 3000);
    let r = s
        .chunk(Some(&id), &data[3000..], Some("bytes 3000-5999/6000"))
        .await;
    assert_eq!(r.json()["offset"], json!(6000));
    assert_eq!(file_of(&s, &file), data);
}

#[tokio::test]
async fn a_stalled_body_times_out_and_frees_the_upload() {
    let s = site_with(|r| r.read_timeout = Some("1".into())).await;
    let id = s.chunk(None, b"0123", None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (file, ..) = s.row(&id).await;
    let mut stream = partial_chunk(&s, &id, 10_000, 10).await;
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    use tokio::io::AsyncReadExt;
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(file_of(&s, &file), b"0123");
    // The row lock is gone: the next chunk goes through at once.
    let r = s.chunk(Some(&id), b"4567", Some("bytes 4-7/8")).await;
    assert_eq!(r.json()["offset"], json!(8));
}

#[tokio::test]
async fn fsync_mode_stores_chunks_the_same() {
    let s = site_with(|r| r.chunked_upload_fsync = Some("True".into())).await;
    let data = content(100_000, 4);
    let id = s.chunk(None, &data[..50_000], None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .chunk(Some(&id), &data[50_000..], Some("bytes 50000-99999/100000"))
        .await;
    assert_eq!(r.json()["offset"], json!(100_000));
    assert_eq!(file_of(&s, &s.row(&id).await.0), data);
}

/// A PostgreSQL cluster of its own (scripts/pg.sh), to be stopped and started.
struct OwnCluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnCluster {
    fn pg(&self, args: &[&str]) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg.sh");
        let out = std::process::Command::new(script)
            .args(args)
            .env("PG_NOSYNC", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    fn start(&self) {
        let dir = self.dir.path().join("pg");
        self.pg(&["start", dir.to_str().unwrap(), &self.port.to_string()]);
    }
    fn stop(&self) {
        let dir = self.dir.path().join("pg");
        self.pg(&["stop", dir.to_str().unwrap()]);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn a_database_outage_is_a_500_and_the_service_recovers_without_restart() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cluster = OwnCluster { dir, port };
    cluster.start();
    let base = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let s = site_on(fresh_database_on(&base).await, |r| {
        r.db_timeout = Some("2".into())
    })
    .await;
    let id = s.chunk(None, b"abcd", None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (file, ..) = s.row(&id).await;

    cluster.stop();
    let started = std::time::Instant::now();
    let r = s.chunk(Some(&id), b"efgh", Some("bytes 4-7/8")).await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body.contains("Server Error (500)"));
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(file_of(&s, &file), b"abcd");

    cluster.start();
    let r = s.chunk(Some(&id), b"efgh", Some("bytes 4-7/8")).await;
    assert_eq!(
        (r.status, r.json()["offset"].clone()),
        (200, json!(8)),
        "{}",
        r.body
    );
    assert_eq!(file_of(&s, &file), b"abcdefgh");
}

#[tokio::test]
async fn huge_or_countless_headers_get_a_4xx() {
    let s = site().await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/chunked_upload/", s.base);
    let r = client
        .post(&url)
        .header("X-Big", "a".repeat(300_000))
        .send()
        .await;
    let status = r.map(|r| r.status().as_u16()).unwrap_or(431);
    assert!((400..500).contains(&status), "{status}");
    let mut req = client.post(&url);
    for i in 0..500 {
        req = req.header(format!("x-h{i}"), "v");
    }
    let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(431);
    assert!((400..500).contains(&status), "{status}");
    // And the service is fine afterwards.
    assert_eq!(s.chunk(None, b"ok", None).await.status, 200);
}

#[tokio::test]
async fn idle_connections_beyond_the_limit_wait_and_silent_ones_are_dropped() {
    let s = site_with(|r| {
        r.max_connections = Some("2".into());
        r.read_timeout = Some("1".into());
    })
    .await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    // Two clients connect and say nothing: they hold both slots ...
    let idle: Vec<_> = futures_util::future::join_all(
        (0..2).map(|_| tokio::net::TcpStream::connect(addr.clone())),
    )
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // ... until the read timeout drops them, then a real request is served.
    let started = std::time::Instant::now();
    let r = s.chunk(None, b"hello", None).await;
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(idle);
}

/// A 1 MiB tmpfs: a disk that fills up. Needs root, as CI runs.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn new() -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(
            status.success(),
            "mounting a tmpfs needs root (CI runs as root)"
        );
        SmallDisk(dir)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_is_a_500_the_chunk_is_cut_back_and_the_offset_stays() {
    let disk = SmallDisk::new();
    let media = disk.0.path().to_string_lossy().into_owned();
    let s = site_with(|r| r.media_root = Some(media)).await;
    let data = content(300_000, 8);
    let id = s.chunk(None, &data[..100_000], None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (file, ..) = s.row(&id).await;
    let path = disk.0.path().join(&file);
    let big = content(2 << 20, 9);
    let r = s
        .chunk(
            Some(&id),
            &big,
            Some(&format!(
                "bytes 100000-{}/{}",
                100_000 + big.len() - 1,
                100_000 + big.len()
            )),
        )
        .await;
    assert_eq!(r.status, 500, "{}", r.body);
    let left = std::fs::read(&path).unwrap();
    assert!(
        left == data[..100_000],
        "the partial chunk was not cut back: {} bytes",
        left.len()
    );
    assert_eq!(offset_of(&s, &id).await, 100_000);
    // The space is free again: the upload goes on.
    let r = s
        .chunk(
            Some(&id),
            &data[100_000..],
            Some("bytes 100000-299999/300000"),
        )
        .await;
    assert_eq!(r.json()["offset"], json!(300_000));
    assert!(std::fs::read(&path).unwrap() == data);
}

#[tokio::test]
async fn bytes_beyond_the_declared_length_never_reach_the_file() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = site().await;
    let id = s.chunk(None, b"head", None).await.json()["upload_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (file, ..) = s.row(&id).await;
    let body = format!(
        "--B\r\nContent-Disposition: form-data; name=\"upload_id\"\r\n\r\n{id}\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\ntail\r\n--B--\r\n"
    );
    let addr = s.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /api/chunked_upload/ HTTP/1.1\r\nHost: x\r\nCookie: {}\r\nX-CSRFToken: {CSRF}\r\nContent-Range: bytes 4-7/8\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n\r\n{body}EXTRA-BYTES-THAT-WERE-NOT-DECLARED\r\n\r\n",
        s.cookie,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(file_of(&s, &file), b"headtail");
    assert_eq!(offset_of(&s, &id).await, 8);
}

/// The md5 state's offset for an upload (None: no state row).
async fn md5_state_offset(s: &Site, upload_id: &str) -> Option<i64> {
    sqlx::query_scalar(
        r#"SELECT m."offset" FROM chunked_upload_md5_state m
           JOIN chunked_upload_chunkedupload u ON u.id = m.upload_pk WHERE u.upload_id = $1"#,
    )
    .bind(upload_id)
    .fetch_optional(&s.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn without_the_md5_check_nothing_is_hashed_again() {
    let s = site_with(|r| r.chunked_upload_do_md5_check = Some("False".into())).await;
    let first = s.chunk(None, b"0123456789", Some("bytes 0-9/30")).await;
    let id = first.json()["upload_id"].as_str().unwrap().to_owned();
    // Django wrote the next chunk: the running state is stale, and a chunk
    // on top of it does not hash the file to catch up.
    s.append_like_django(&id, b"abcdefghij").await;
    let third = s
        .chunk(Some(&id), b"ABCDEFGHIJ", Some("bytes 20-29/30"))
        .await;
    assert_eq!(third.status, 200, "{}", third.body);
    assert_eq!(md5_state_offset(&s, &id).await, Some(10));
    let missing = s
        .post("/api/chunked_upload_complete/", &[], None, None)
        .await;
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (400, r#"{"detail": "'upload_id' is required"}"#)
    );
    let done = s.complete(&id, "not the md5").await;
    assert_eq!((done.status, done.body.as_str()), (200, "{}"));
    assert_eq!(full_reads(&s), 0);
    assert_eq!(s.row(&id).await.3, 2);
}

#[tokio::test]
async fn with_the_md5_check_a_stale_state_is_caught_up_by_the_next_chunk() {
    let s = site().await;
    let first = s.chunk(None, b"0123456789", Some("bytes 0-9/30")).await;
    let id = first.json()["upload_id"].as_str().unwrap().to_owned();
    s.append_like_django(&id, b"abcdefghij").await;
    s.chunk(Some(&id), b"ABCDEFGHIJ", Some("bytes 20-29/30"))
        .await;
    assert_eq!(md5_state_offset(&s, &id).await, Some(30));
}

#[tokio::test]
async fn the_chunk_is_read_from_the_configured_field() {
    let s = site_with(|r| r.chunked_upload_field_name = Some("the_file".into())).await;
    let in_file = s.chunk(None, b"0123456789", None).await;
    assert_eq!(
        (in_file.status, in_file.body.as_str()),
        (400, r#"{"detail": "No chunk file was submitted"}"#)
    );
    let form = reqwest::multipart::Form::new().part(
        "the_file",
        reqwest::multipart::Part::bytes(b"0123456789".to_vec()).file_name("f.bin"),
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/api/chunked_upload/", s.base))
        .header("Cookie", &s.cookie)
        .header("X-CSRFToken", CSRF)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(body["offset"], json!(10));
}

#[tokio::test]
async fn fail_if_no_header_refuses_after_creating_the_empty_part_file() {
    let s = site_with(|r| r.chunked_upload_fail_if_no_header = Some("True".into())).await;
    let refused = s.chunk(None, b"0123456789", None).await;
    assert_eq!(
        (refused.status, refused.body.as_str()),
        (400, r#"{"detail": "Error in request headers"}"#)
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM chunked_upload_chunkedupload")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    // `create_chunked_upload` saved the empty file before the header check.
    let parts: Vec<_> = walk(s.media.path());
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!(std::fs::metadata(&parts[0]).unwrap().len(), 0);
    let ok = s.chunk(None, b"0123456789", Some("bytes 0-9/10")).await;
    assert_eq!(ok.status, 200);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn anyone_may_upload_and_a_user_still_sees_only_their_own() {
    let s = site_with(|r| r.chunked_upload_permission = Some("anyone".into())).await;
    let anon = |form: reqwest::multipart::Form, range: &str| {
        reqwest::Client::new()
            .post(format!("{}/api/chunked_upload/", s.base))
            .header("Cookie", format!("csrftoken={CSRF}"))
            .header("X-CSRFToken", CSRF)
            .header("Content-Range", range)
            .multipart(form)
            .send()
    };
    let part = |data: &[u8]| reqwest::multipart::Part::bytes(data.to_vec()).file_name("anon.bin");
    let first = anon(
        reqwest::multipart::Form::new().part("file", part(b"0123456789")),
        "bytes 0-9/20",
    )
    .await
    .unwrap();
    assert_eq!(first.status(), 200);
    // The create path read request.user, so the session was accessed.
    assert_eq!(first.headers()["vary"], "Cookie");
    let first: Value = serde_json::from_str(&first.text().await.unwrap()).unwrap();
    let id = first["upload_id"].as_str().unwrap().to_owned();
    assert_eq!(s.row(&id).await.4, None);
    // alice's uploads are filtered to her: the anonymous one is not found.
    let alice = s
        .chunk(Some(&id), b"abcdefghij", Some("bytes 10-19/20"))
        .await;
    assert_eq!(alice.status, 404);
    let more = anon(
        reqwest::multipart::Form::new()
            .text("upload_id", id.clone())
            .part("file", part(b"abcdefghij")),
        "bytes 10-19/20",
    )
    .await
    .unwrap();
    assert_eq!(more.status(), 200);
    assert_eq!(s.row(&id).await.2, 20);
    // Without a chunk `_post` stops before reading request.user.
    let none = anon(
        reqwest::multipart::Form::new().text("upload_id", id.clone()),
        "bytes 20-29/30",
    )
    .await
    .unwrap();
    assert_eq!(none.status(), 400);
    assert!(none.headers().get("vary").is_none());
    let own = s.chunk(None, b"x", None).await;
    let own_id = own.json()["upload_id"].as_str().unwrap().to_owned();
    assert_eq!(s.row(&own_id).await.4, Some(s.user_id));
}

/// A chunk request whose first field is over DATA_UPLOAD_MAX_MEMORY_SIZE
/// (2.5 MiB), followed by `extra` more bytes of file data: Django's 400
/// comes while the client is still sending.
fn oversized_field_request(s: &Site, extra: usize) -> (Vec<u8>, Vec<u8>) {
    let boundary = "LingerBoundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n\r\n",
        "n".repeat(2_621_440 + 10)
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(b'Z', extra));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let addr = s.base.trim_start_matches("http://");
    let head = format!(
        "POST /api/chunked_upload/ HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nX-CSRFToken: {CSRF}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        s.cookie,
        body.len()
    );
    (head.into_bytes(), body)
}

/// Writes `body` in 64 KiB pieces, `pause` apart; the error ends it.
async fn send_slowly(
    mut w: tokio::net::tcp::OwnedWriteHalf,
    body: impl Iterator<Item = Vec<u8>>,
    pause: std::time::Duration,
) -> (usize, Option<std::io::Error>) {
    use tokio::io::AsyncWriteExt;
    let mut sent = 0;
    for piece in body {
        if let Err(e) = w.write_all(&piece).await {
            return (sent, Some(e));
        }
        sent += piece.len();
        tokio::time::sleep(pause).await;
    }
    (sent, None)
}

#[tokio::test]
async fn a_request_refused_mid_body_still_gets_its_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = site().await;
    let (head, body) = oversized_field_request(&s, 5_000_000);
    let addr = s.base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    w.write_all(&head).await.unwrap();
    let total = body.len();
    let pieces: Vec<Vec<u8>> = body.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
    let writer = tokio::spawn(send_slowly(
        w,
        pieces.into_iter(),
        std::time::Duration::from_millis(3),
    ));
    let mut answer = Vec::new();
    let read = r.read_to_end(&mut answer).await;
    let (sent, error) = writer.await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(read.is_ok(), "{read:?}; answer so far: {answer}");
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.ends_with("</html>\n"), "{answer}");
    assert!(error.is_none(), "{error:?} after {sent} of {total} bytes");
    assert_eq!(sent, total);
}

#[tokio::test]
async fn a_client_that_never_stops_sending_is_cut_off_after_the_lingering_time() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = site().await;
    let (head, body) = oversized_field_request(&s, 0);
    let addr = s.base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    w.write_all(&head).await.unwrap();
    let started = std::time::Instant::now();
    // The declared body, then bytes for ever (about 6 MB/s).
    let endless = body
        .chunks(64 * 1024)
        .map(<[u8]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter()
        .chain(std::iter::repeat_with(|| vec![b'Z'; 64 * 1024]));
    let writer = tokio::spawn(send_slowly(
        w,
        endless,
        std::time::Duration::from_millis(10),
    ));
    // The answer arrives in full, then the server's FIN.
    let mut answer = Vec::new();
    r.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    let (sent, error) = tokio::time::timeout(std::time::Duration::from_secs(60), writer)
        .await
        .expect("the server cut the endless body off")
        .unwrap();
    let elapsed = started.elapsed();
    assert!(error.is_some(), "sent {sent}");
    assert!(
        elapsed < chunked_upload::http::LINGERING_TIME + std::time::Duration::from_secs(10),
        "{elapsed:?}"
    );
    // It lingered, reading, until the bound (without lingering the kernel
    // resets the connection as soon as the server closes).
    assert!(
        elapsed > chunked_upload::http::LINGERING_TIME - std::time::Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert!(
        sent > body.len(),
        "the client kept sending for a while ({sent})"
    );
}
