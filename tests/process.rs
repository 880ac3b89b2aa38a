//! The `chunked-upload` binary as a process: SIGTERM lets in-flight chunks
//! finish before it exits, and it refuses to start on bad settings.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{fresh_database, login, CSRF, SECRET};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Service {
    child: Child,
    addr: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(url: &str, media: &std::path::Path) -> Service {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_chunked-upload"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("SECRET_KEY", SECRET)
        .env("MEDIA_ROOT", media)
        .env("LISTEN", &addr)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(&addr).await.is_err() {
        assert!(Instant::now() < deadline, "service did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Service { child, addr }
}

fn body(upload_id: &str, chunk: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--B\r\nContent-Disposition: form-data; name=\"upload_id\"\r\n\r\n{upload_id}\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(chunk);
    b.extend_from_slice(b"\r\n--B--\r\n");
    b
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_chunk_finish_then_exits() {
    let url = fresh_database().await;
    let pool = PgPool::connect(&url).await.unwrap();
    chunked_upload::store::migrate::migrate(&pool)
        .await
        .unwrap();
    let (_, key) = login(&pool, "carol", "pbkdf2_sha256$1$s$h").await;
    let media = tempfile::tempdir().unwrap();
    let mut service = start(&url, media.path()).await;
    // An upload at offset 4, made directly as Django's view would leave it.
    std::fs::create_dir_all(media.path().join("u")).unwrap();
    std::fs::write(media.path().join("u/x.part"), b"abcd").unwrap();
    sqlx::query(
        r#"INSERT INTO chunked_upload_chunkedupload (upload_id, file, filename, "offset", created_on, status, user_id)
           SELECT 'feedfeedfeedfeedfeedfeedfeedfeed', 'u/x.part', 'x', 4, now(), 1, id FROM auth_user"#,
    )
    .execute(&pool)
    .await
    .unwrap();

    let chunk = vec![b'Z'; 1 << 20];
    let payload = body("feedfeedfeedfeedfeedfeedfeedfeed", &chunk);
    let mut stream = tokio::net::TcpStream::connect(&service.addr).await.unwrap();
    let head = format!(
        "POST /api/chunked_upload/ HTTP/1.1\r\nHost: localhost\r\nCookie: sessionid={key}; csrftoken={CSRF}\r\nX-CSRFToken: {CSRF}\r\nContent-Range: bytes 4-{}/{}\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n\r\n",
        4 + chunk.len() - 1,
        4 + chunk.len(),
        payload.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let half = payload.len() / 2;
    stream.write_all(&payload[..half]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    unsafe { libc::kill(service.child.id() as i32, libc::SIGTERM) };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        tokio::net::TcpStream::connect(&service.addr).await.is_err(),
        "no new connections after SIGTERM"
    );
    stream.write_all(&payload[half..]).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answer")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(&format!("\"offset\": {}", 4 + chunk.len())),
        "{answer}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = service.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "service did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let file = std::fs::read(media.path().join("u/x.part")).unwrap();
    assert_eq!(file.len(), 4 + chunk.len());
}

#[test]
fn bad_settings_stop_start_up_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_chunked-upload"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", "postgres://u@127.0.0.1:1/db")
        .env("SECRET_KEY", "k")
        .env("MEDIA_ROOT", "/tmp")
        .env("USE_TZ", "perhaps")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("USE_TZ"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_chunked-upload"))
        .arg("serve")
        .env_clear()
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}
