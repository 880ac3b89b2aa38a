//! Side-by-side benchmark: this service vs the reference Django app
//! (django-chunked-upload-patched 2.1.0 on Django 5.2 under gunicorn with
//! 2 sync workers), same client, same data, same database, same MEDIA_ROOT,
//! same machine, in one run.
//!
//!     cargo build --release                  # the service
//!     compat-tests/setup.sh                  # the Django venvs
//!     cargo run --release --example bench    # [--quick] [--only rust|django]
//!
//! PostgreSQL: `DATABASE_URL` (an admin URL: a fresh database is created in
//! it and dropped at the end) or, if unset, a private cluster started with
//! scripts/pg.sh (default, durable settings; `PG_NOSYNC=1` is passed through).
//! `CHUNKED_UPLOAD_BIN` overrides the service binary (default: the
//! `chunked-upload` next to this example's `target/<profile>/` directory).
//!
//! The Markdown table goes to stdout (and to target/bench/<stamp>/results.md);
//! progress and server logs' location go to stderr.

#[path = "bench/http.rs"]
mod http;
#[path = "bench/setup.rs"]
mod setup;
#[path = "bench/sys.rs"]
mod sys;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
use hyper::Request;
use md5::{Digest, Md5};

use http::{new_client, send, HttpClient, Parts};
use setup::{hex, Proc};
use sys::{CpuMark, CpuUse, RssSampler};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;
/// The shared pseudo-random data: every upload is this buffer repeated.
/// A multiple of every chunk size, so a chunk is always one slice of it.
const BUF_LEN: u64 = 64 * MIB;
const BOUNDARY: &str = "----ChunkedUploadBench7MA4YWxkTrZu0gW";
const EPILOGUE: &str = "\r\n------ChunkedUploadBench7MA4YWxkTrZu0gW--\r\n";
const UPLOAD_PATH: &str = "/api/chunked_upload/";
const COMPLETE_PATH: &str = "/api/chunked_upload_complete/";
/// One request that takes longer than this is a hang: abort.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);
const RSS_EVERY: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------
// configuration

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Srv {
    Rust,
    Django,
}

impl Srv {
    fn name(self) -> &'static str {
        match self {
            Srv::Rust => "rust",
            Srv::Django => "django",
        }
    }
    fn idx(self) -> usize {
        self as usize
    }
}

/// Client and server CPU of one phase, for rust and django.
type CpuPair = [Option<(CpuUse, f64)>; 2];

struct Cfg {
    quick: bool,
    servers: Vec<Srv>,
    phase_timeout: Duration,
    single_size: u64,
    single_chunks: Vec<u64>,
    c16: (usize, u64, u64),
    rps: (usize, u64, u64, Duration),
    c64: (usize, u64, u64),
    ceiling_size: u64,
}

impl Cfg {
    fn from_args() -> Result<Cfg> {
        let mut quick = false;
        let mut only: Option<Srv> = None;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--quick" => quick = true,
                "--only" => {
                    only = Some(match args.next().as_deref() {
                        Some("rust") => Srv::Rust,
                        Some("django") => Srv::Django,
                        other => bail!("--only takes rust or django, not {other:?}"),
                    })
                }
                "-h" | "--help" => {
                    println!("usage: cargo run --release --example bench -- [--quick] [--only rust|django]");
                    std::process::exit(0);
                }
                other => bail!("unknown argument {other:?} (try --help)"),
            }
        }
        let div = if quick { 16 } else { 1 };
        // Chunks are never larger than the file.
        let c = |size: u64, chunk: u64| chunk.min(size);
        let single_size = GIB / div;
        Ok(Cfg {
            quick,
            servers: match only {
                Some(s) => vec![s],
                None => vec![Srv::Rust, Srv::Django],
            },
            phase_timeout: Duration::from_secs(if quick { 60 } else { 180 }),
            single_size,
            single_chunks: vec![
                c(single_size, 64 * KIB),
                c(single_size, MIB),
                c(single_size, 8 * MIB),
            ],
            c16: (16, 64 * MIB / div, c(64 * MIB / div, MIB)),
            rps: (
                8,
                64 * KIB,
                64 * MIB / div,
                Duration::from_secs(if quick { 5 } else { 20 }),
            ),
            c64: (64, 32 * MIB / div, c(32 * MIB / div, 8 * MIB)),
            ceiling_size: GIB / div,
        })
    }
}

fn size(n: u64) -> String {
    if n >= GIB && n.is_multiple_of(GIB) {
        format!("{} GiB", n / GIB)
    } else if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{} KiB", n / KIB)
    }
}

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs.max(1e-9)
}

// ---------------------------------------------------------------------------
// results table

#[derive(Clone)]
struct Val {
    v: f64,
    shown: String,
    partial: bool,
}

struct Row {
    label: String,
    higher_better: bool,
    vals: [Option<Val>; 2],
}

#[derive(Default)]
struct Results {
    rows: Vec<Row>,
    ceilings: Vec<(String, String)>,
    /// phase -> per server: (client CPU, server CPU seconds)
    cpu: Vec<(String, CpuPair)>,
    notes: Vec<String>,
    details: Vec<String>,
}

impl Results {
    fn set(
        &mut self,
        label: &str,
        higher_better: bool,
        srv: Srv,
        v: f64,
        shown: String,
        partial: bool,
    ) {
        let i = match self.rows.iter().position(|r| r.label == label) {
            Some(i) => i,
            None => {
                self.rows.push(Row {
                    label: label.to_string(),
                    higher_better,
                    vals: [None, None],
                });
                self.rows.len() - 1
            }
        };
        self.rows[i].vals[srv.idx()] = Some(Val { v, shown, partial });
    }
    fn cpu(&mut self, label: &str, srv: Srv, c: CpuUse, server: f64) {
        let i = match self.cpu.iter().position(|r| r.0 == label) {
            Some(i) => i,
            None => {
                self.cpu.push((label.to_string(), [None, None]));
                self.cpu.len() - 1
            }
        };
        self.cpu[i].1[srv.idx()] = Some((c, server));
    }
    fn ceiling(&mut self, label: &str, value: String) {
        self.ceilings.push((label.to_string(), value));
    }

    fn markdown(&self, header: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{header}\n");
        let _ = writeln!(
            s,
            "| measurement | rust | django | ratio (>1: rust better) |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|");
        let mut any_partial = false;
        for r in &self.rows {
            let cell = |v: &Option<Val>| match v {
                Some(v) => format!("{}{}", v.shown, if v.partial { " *" } else { "" }),
                None => "–".to_string(),
            };
            any_partial |= r.vals.iter().flatten().any(|v| v.partial);
            let ratio = match (&r.vals[0], &r.vals[1]) {
                (Some(a), Some(b)) if a.v > 0.0 && b.v > 0.0 => {
                    let x = if r.higher_better {
                        a.v / b.v
                    } else {
                        b.v / a.v
                    };
                    if x >= 10.0 {
                        format!("{x:.0}×")
                    } else {
                        format!("{x:.2}×")
                    }
                }
                _ => "–".to_string(),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                r.label,
                cell(&r.vals[0]),
                cell(&r.vals[1]),
                ratio
            );
        }
        let _ = writeln!(
            s,
            "\nratio = rust/django for throughputs, django/rust for times, latencies and memory. MB = 10⁶ bytes."
        );
        if any_partial {
            let _ = writeln!(
                s,
                "\\* the phase hit its time limit: the value covers what was done until then."
            );
        }
        if !self.ceilings.is_empty() {
            let _ = writeln!(s, "\nMachine ceilings (same run, same client):\n");
            let _ = writeln!(s, "| ceiling | value |");
            let _ = writeln!(s, "|---|---:|");
            for (k, v) in &self.ceilings {
                let _ = writeln!(s, "| {k} | {v} |");
            }
        }
        if !self.cpu.is_empty() {
            let _ = writeln!(
                s,
                "\nCPU per phase: the client (user+sys of the bench process / wall time; 100% = one core) and the \
                 server (user+sys of its processes; gunicorn: master + workers; PostgreSQL not counted):\n"
            );
            let _ = writeln!(
                s,
                "| phase | client, rust run | rust server | client, django run | django server |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|");
            for (k, v) in &self.cpu {
                let c =
                    |x: &Option<(CpuUse, f64)>| x.map(|c| c.0.fmt()).unwrap_or_else(|| "–".into());
                let sv = |x: &Option<(CpuUse, f64)>| {
                    x.map(|(c, srv)| format!("{srv:.1} s ({:.0}%)", 100.0 * srv / c.wall.max(1e-9)))
                        .unwrap_or_else(|| "–".into())
                };
                let _ = writeln!(
                    s,
                    "| {k} | {} | {} | {} | {} |",
                    c(&v[0]),
                    sv(&v[0]),
                    c(&v[1]),
                    sv(&v[1])
                );
            }
        }
        if !self.details.is_empty() {
            let _ = writeln!(s, "\nDetails:\n");
            for d in &self.details {
                let _ = writeln!(s, "- {d}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\nNotes:\n");
            for d in &self.notes {
                let _ = writeln!(s, "- {d}");
            }
        }
        s
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

// ---------------------------------------------------------------------------
// data and md5s

/// 64 MiB from splitmix64: incompressible, generated once.
fn make_data() -> Bytes {
    let mut v = vec![0u8; BUF_LEN as usize];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ std::process::id() as u64;
    for c in v.chunks_exact_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        c.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    Bytes::from(v)
}

/// md5 hex of the first `len` bytes of `data` repeated forever, at each of
/// `points` (one pass up to the largest).
fn md5_points(data: &[u8], points: &[u64]) -> HashMap<u64, String> {
    let mut points: Vec<u64> = points.to_vec();
    points.sort_unstable();
    points.dedup();
    let mut h = Md5::new();
    let mut pos = 0u64;
    let mut out = HashMap::new();
    let buf = data.len() as u64;
    for p in points {
        while pos < p {
            let at = pos % buf;
            let n = (p - pos).min(buf - at);
            h.update(&data[at as usize..(at + n) as usize]);
            pos += n;
        }
        out.insert(p, hex(&h.clone().finalize()));
    }
    out
}

/// Expected md5 of every upload length, computed off the timed path.
#[derive(Clone)]
struct Md5s {
    data: Bytes,
    known: Arc<Mutex<HashMap<u64, String>>>,
}

impl Md5s {
    async fn get(&self, len: u64) -> Result<String> {
        if let Some(h) = self.known.lock().unwrap().get(&len) {
            return Ok(h.clone());
        }
        let data = self.data.clone();
        let h =
            tokio::task::spawn_blocking(move || md5_points(&data, &[len]).remove(&len).unwrap())
                .await?;
        self.known.lock().unwrap().insert(len, h.clone());
        Ok(h)
    }
}

// ---------------------------------------------------------------------------
// the upload client

struct Uploader {
    srv: Srv,
    client: HttpClient,
    base: String,
    cookie: String,
    csrf: String,
    data: Bytes,
}

/// One upload driven chunk after chunk.
#[derive(Default)]
struct Seq {
    id: Option<String>,
    bytes: u64,
    wall: f64,
    lat_ms: Vec<f64>,
    partial: bool,
}

fn multipart_preamble(upload_id: Option<&str>) -> String {
    let mut pre = String::with_capacity(300);
    if let Some(id) = upload_id {
        let _ = write!(
            pre,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"upload_id\"\r\n\r\n{id}\r\n"
        );
    }
    let _ = write!(
        pre,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    pre
}

impl Uploader {
    /// POST one chunk: bytes [off, off+n) of the upload; returns (upload_id, latency).
    async fn chunk(
        &self,
        upload_id: Option<&str>,
        off: u64,
        n: u64,
        total: u64,
    ) -> Result<(String, f64)> {
        let at = off % BUF_LEN;
        assert!(at + n <= BUF_LEN, "chunk straddles the data buffer");
        let body = Parts::new([
            Bytes::from(multipart_preamble(upload_id)),
            self.data.slice(at as usize..(at + n) as usize),
            Bytes::from_static(EPILOGUE.as_bytes()),
        ]);
        let req = Request::post(format!("{}{UPLOAD_PATH}", self.base))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(CONTENT_LENGTH, body.len())
            .header(COOKIE, &self.cookie)
            .header("X-CSRFToken", &self.csrf)
            .header(
                "Content-Range",
                format!("bytes {}-{}/{}", off, off + n - 1, total),
            )
            .body(body)?;
        let t = Instant::now();
        let r = send(&self.client, req, REQUEST_TIMEOUT)
            .await
            .with_context(|| format!("{}: chunk at {off}", self.srv.name()))?;
        let dt = t.elapsed().as_secs_f64() * 1e3;
        if r.status != 200 {
            bail!(
                "{}: chunk at offset {off} (+{n}) answered {}: {}",
                self.srv.name(),
                r.status,
                r.excerpt()
            );
        }
        let j: serde_json::Value = serde_json::from_slice(&r.body).with_context(|| {
            format!(
                "{}: chunk answer is not JSON: {}",
                self.srv.name(),
                r.excerpt()
            )
        })?;
        let id = j["upload_id"]
            .as_str()
            .ok_or_else(|| anyhow!("{}: no upload_id in {}", self.srv.name(), r.excerpt()))?;
        if j["offset"].as_u64() != Some(off + n) {
            bail!(
                "{}: after the chunk at {off} (+{n}) the answer says {}",
                self.srv.name(),
                r.excerpt()
            );
        }
        Ok((id.to_string(), dt))
    }

    /// POST the completion; anything but 200 `{}` is a bug: abort.
    async fn complete(&self, upload_id: &str, md5: &str) -> Result<f64> {
        let form = format!("upload_id={upload_id}&md5={md5}");
        let req = Request::post(format!("{}{COMPLETE_PATH}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(CONTENT_LENGTH, form.len())
            .header(COOKIE, &self.cookie)
            .header("X-CSRFToken", &self.csrf)
            .body(Parts::new([Bytes::from(form)]))?;
        let t = Instant::now();
        let r = send(&self.client, req, REQUEST_TIMEOUT)
            .await
            .with_context(|| format!("{}: completing {upload_id}", self.srv.name()))?;
        let dt = t.elapsed().as_secs_f64();
        if r.status != 200 || &r.body[..] != b"{}" {
            bail!(
                "{}: completing upload {upload_id} with md5 {md5} answered {} {} (expected 200 {{}}): \
                 the server stored different bytes than were sent, or rejected the upload: a BUG",
                self.srv.name(),
                r.status,
                r.excerpt()
            );
        }
        Ok(dt)
    }

    /// One upload of `total` bytes in `chunk`-byte requests, stopping early at `deadline`.
    async fn upload(&self, total: u64, chunk: u64, deadline: Instant) -> Result<Seq> {
        let mut s = Seq {
            lat_ms: Vec::with_capacity((total / chunk + 1) as usize),
            ..Default::default()
        };
        let t0 = Instant::now();
        while s.bytes < total {
            if Instant::now() >= deadline {
                s.partial = true;
                break;
            }
            let n = chunk.min(total - s.bytes);
            let (id, dt) = self.chunk(s.id.as_deref(), s.bytes, n, total).await?;
            s.id = Some(id);
            s.bytes += n;
            s.lat_ms.push(dt);
        }
        s.wall = t0.elapsed().as_secs_f64();
        Ok(s)
    }
}

/// `n` uploads at once; returns them and the wall time until the last 200.
async fn concurrent(
    up: &Arc<Uploader>,
    n: usize,
    total: u64,
    chunk: u64,
    deadline: Instant,
) -> Result<(Vec<Seq>, f64)> {
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let up = up.clone();
            tokio::spawn(async move { up.upload(total, chunk, deadline).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await??);
    }
    Ok((out, t0.elapsed().as_secs_f64()))
}

/// Complete every upload (concurrently), checking each md5.
async fn complete_all(up: &Arc<Uploader>, seqs: &[Seq], md5s: &Md5s) -> Result<()> {
    let mut tasks = Vec::new();
    for s in seqs {
        let Some(id) = s.id.clone() else { continue };
        let md5 = md5s.get(s.bytes).await?;
        let up = up.clone();
        tasks.push(tokio::spawn(async move { up.complete(&id, &md5).await }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// one server under test

struct Target {
    srv: Srv,
    pid: i32,
    /// gunicorn: master + workers
    with_children: bool,
    up: Arc<Uploader>,
}

/// Between measurements: drop the upload files (keeps the disk and the page
/// cache from growing across phases), flush dirty pages, let things settle.
async fn settle(media: &Path) -> Result<()> {
    let media = media.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let dir = media.join("chunked_uploads");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        let f = std::fs::File::open(&media)?;
        unsafe { libc::syncfs(std::os::fd::AsRawFd::as_raw_fd(&f)) };
        Ok(())
    })
    .await??;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(())
}

// ---------------------------------------------------------------------------
// ceilings

async fn ceilings(
    cfg: &Cfg,
    data: &Bytes,
    media: &Path,
    client: &HttpClient,
    res: &mut Results,
) -> Result<()> {
    let n = cfg.ceiling_size;
    eprintln!(
        "bench: ceilings: md5, disk write, loopback HTTP ({})",
        size(n)
    );

    // md5 on one core, in-process (md-5 crate).
    let d = data.clone();
    let (secs, _) = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let h = md5_points(&d, &[n]);
        (t.elapsed().as_secs_f64(), h)
    })
    .await?;
    res.ceiling(
        &format!("md5 of {} on one core (md-5 crate)", size(n)),
        format!("{:.0} MB/s", mbps(n, secs)),
    );

    // Sequential write of 1 MiB buffers into MEDIA_ROOT; fsync timed separately.
    let d = data.clone();
    let path = media.join("ceiling-write.bin");
    let (w, f) = tokio::task::spawn_blocking(move || -> Result<(f64, f64)> {
        use std::io::Write;
        let mut file = std::fs::File::create(&path)?;
        let t = Instant::now();
        let mut off = 0u64;
        while off < n {
            let at = (off % BUF_LEN) as usize;
            file.write_all(&d[at..at + MIB as usize])?;
            off += MIB;
        }
        let w = t.elapsed().as_secs_f64();
        let t = Instant::now();
        file.sync_all()?;
        let f = t.elapsed().as_secs_f64();
        drop(file);
        std::fs::remove_file(&path)?;
        Ok((w, f))
    })
    .await??;
    res.ceiling(
        &format!(
            "write {} to MEDIA_ROOT in 1 MiB writes, into the page cache (fsync excluded)",
            size(n)
        ),
        format!("{:.0} MB/s", mbps(n, w)),
    );
    res.ceiling(
        &format!("… then fsync of those {}", size(n)),
        format!("{f:.2} s (write+fsync: {:.0} MB/s)", mbps(n, w + f)),
    );
    settle(media).await?;

    // Loopback: the same client against an in-process sink server.
    let port = http::start_sink()?;
    let base = format!("http://127.0.0.1:{port}/sink");
    let mark = CpuMark::start();
    let t = Instant::now();
    let mut off = 0u64;
    while off < n {
        let at = (off % BUF_LEN) as usize;
        let body = Parts::new([data.slice(at..at + (8 * MIB).min(n) as usize)]);
        let len = body.len();
        let req = Request::post(&base)
            .header(CONTENT_LENGTH, len)
            .body(body)?;
        let r = send(client, req, REQUEST_TIMEOUT).await?;
        if r.status != 200 {
            bail!("sink answered {}", r.status);
        }
        off += len;
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = mark.stop();
    res.ceiling(
        &format!(
            "loopback HTTP, {} in 8 MiB requests to an in-process sink (one connection)",
            size(n)
        ),
        format!("{:.0} MB/s (client+sink CPU {})", mbps(n, secs), cpu.fmt()),
    );

    // Loopback request rate: the rps phase's requests (64 KiB multipart
    // chunks, 8 at a time) against the sink.
    let (conc, chunk, _, dur) = cfg.rps;
    let dur = dur.min(Duration::from_secs(5));
    let mark = CpuMark::start();
    let end = Instant::now() + dur;
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..conc)
        .map(|_| {
            let (client, data, base, count) =
                (client.clone(), data.clone(), base.clone(), count.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    let body = Parts::new([
                        Bytes::from(multipart_preamble(Some("0123456789abcdef0123456789abcdef"))),
                        data.slice(0..chunk as usize),
                        Bytes::from_static(EPILOGUE.as_bytes()),
                    ]);
                    let req = Request::post(&base)
                        .header(
                            CONTENT_TYPE,
                            format!("multipart/form-data; boundary={BOUNDARY}"),
                        )
                        .header(CONTENT_LENGTH, body.len())
                        .body(body)?;
                    let r = send(&client, req, REQUEST_TIMEOUT).await?;
                    if r.status != 200 {
                        bail!("sink answered {}", r.status);
                    }
                    count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = mark.stop();
    let c = count.load(std::sync::atomic::Ordering::Relaxed);
    res.ceiling(
        &format!(
            "loopback HTTP, {} multipart requests, {conc} concurrent, {:.0} s, in-process sink",
            size(chunk),
            dur.as_secs_f64()
        ),
        format!(
            "{:.0} req/s (client+sink CPU {})",
            c as f64 / secs,
            cpu.fmt()
        ),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// phases

struct Ctx {
    cfg: Cfg,
    media: PathBuf,
    md5s: Md5s,
    targets: Vec<Target>,
}

fn fmt_secs(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn fmt_lat(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

async fn phase_single(ctx: &Ctx, res: &mut Results) -> Result<()> {
    let total = ctx.cfg.single_size;
    let mut completions: [Vec<f64>; 2] = [vec![], vec![]];
    for &chunk in &ctx.cfg.single_chunks {
        for t in &ctx.targets {
            settle(&ctx.media).await?;
            let label = format!(
                "one {} upload, {} chunks: MB/s (wall time)",
                size(total),
                size(chunk)
            );
            let mark = CpuMark::start();
            let srv0 = sys::proc_cpu(t.pid, t.with_children);
            let deadline = Instant::now() + ctx.cfg.phase_timeout;
            let s = t.up.upload(total, chunk, deadline).await?;
            let cpu = mark.stop();
            let srv_cpu = sys::proc_cpu(t.pid, t.with_children) - srv0;
            let md5 = ctx.md5s.get(s.bytes).await?;
            let id = s.id.clone().ok_or_else(|| anyhow!("no chunk was sent"))?;
            let done = t.up.complete(&id, &md5).await?;
            let rate = mbps(s.bytes, s.wall);
            eprintln!(
                "bench: [{}] {} @ {}: {rate:.1} MB/s ({:.1} s{}), complete {}",
                t.srv.name(),
                size(total),
                size(chunk),
                s.wall,
                if s.partial {
                    format!(", PARTIAL: {} sent", size(s.bytes))
                } else {
                    String::new()
                },
                fmt_secs(done)
            );
            res.set(
                &label,
                true,
                t.srv,
                rate,
                format!("{rate:.1} ({:.1} s)", s.wall),
                s.partial,
            );
            res.cpu(
                &format!("one {} upload, {} chunks", size(total), size(chunk)),
                t.srv,
                cpu,
                srv_cpu,
            );
            res.details.push(format!(
                "{}: completing the {} upload sent in {} chunks took {}{}",
                t.srv.name(),
                size(s.bytes),
                size(chunk),
                fmt_secs(done),
                if s.partial { " (partial upload)" } else { "" }
            ));
            if !s.partial {
                completions[t.srv.idx()].push(done);
            }
        }
    }
    for t in &ctx.targets {
        let c = &mut completions[t.srv.idx()];
        if c.is_empty() {
            continue;
        }
        c.sort_by(f64::total_cmp);
        let med = percentile(c, 0.5);
        res.set(
            &format!(
                "complete a {} upload (the complete request alone; median of the full uploads above)",
                size(total)
            ),
            false,
            t.srv,
            med,
            format!("{} (n={})", fmt_secs(med), c.len()),
            false,
        );
    }
    Ok(())
}

async fn phase_concurrent(
    ctx: &Ctx,
    res: &mut Results,
    (n, total, chunk): (usize, u64, u64),
    latencies: bool,
) -> Result<()> {
    let what = format!(
        "{n} concurrent uploads of {} in {} chunks",
        size(total),
        size(chunk)
    );
    for t in &ctx.targets {
        settle(&ctx.media).await?;
        let sampler = RssSampler::start(t.pid, t.with_children, RSS_EVERY);
        let mark = CpuMark::start();
        let srv0 = sys::proc_cpu(t.pid, t.with_children);
        let deadline = Instant::now() + ctx.cfg.phase_timeout;
        let r = concurrent(&t.up, n, total, chunk, deadline).await;
        let cpu = mark.stop();
        let srv_cpu = sys::proc_cpu(t.pid, t.with_children) - srv0;
        let (peak, samples) = sampler.finish();
        let (seqs, wall) = r?;
        let bytes: u64 = seqs.iter().map(|s| s.bytes).sum();
        let partial = seqs.iter().any(|s| s.partial);
        let mut lat: Vec<f64> = seqs.iter().flat_map(|s| s.lat_ms.iter().copied()).collect();
        lat.sort_by(f64::total_cmp);
        let rate = mbps(bytes, wall);
        let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
        eprintln!(
            "bench: [{}] {what}: {rate:.1} MB/s ({wall:.1} s{}), chunk p50 {p50:.1} ms p99 {p99:.1} ms, peak RSS {:.1} MiB ({samples} samples)",
            t.srv.name(),
            if partial { format!(", PARTIAL: {} sent", size(bytes)) } else { String::new() },
            peak as f64 / MIB as f64
        );
        res.set(
            &format!("{what}: aggregate MB/s (wall time)"),
            true,
            t.srv,
            rate,
            format!("{rate:.1} ({wall:.1} s)"),
            partial,
        );
        if latencies {
            res.set(
                "… latency per chunk request, p50",
                false,
                t.srv,
                p50,
                fmt_lat(p50),
                partial,
            );
            res.set(
                "… latency per chunk request, p99",
                false,
                t.srv,
                p99,
                fmt_lat(p99),
                partial,
            );
        }
        let mib = peak as f64 / MIB as f64;
        res.set(
            &format!("peak RSS of the server during {what}: MiB"),
            false,
            t.srv,
            mib,
            format!("{mib:.0}"),
            partial,
        );
        res.cpu(&what, t.srv, cpu, srv_cpu);
        let t0 = Instant::now();
        complete_all(&t.up, &seqs, &ctx.md5s).await?;
        res.details.push(format!(
            "{}: completing the {} uploads of {what} (concurrently, md5 checked) took {}",
            t.srv.name(),
            seqs.len(),
            fmt_secs(t0.elapsed().as_secs_f64())
        ));
    }
    Ok(())
}

async fn phase_rps(ctx: &Ctx, res: &mut Results) -> Result<()> {
    let (conc, chunk, rollover, dur) = ctx.cfg.rps;
    let what = format!(
        "{} chunks, {conc} concurrent, {:.0} s",
        size(chunk),
        dur.as_secs_f64()
    );
    for t in &ctx.targets {
        settle(&ctx.media).await?;
        let mark = CpuMark::start();
        let srv0 = sys::proc_cpu(t.pid, t.with_children);
        let t0 = Instant::now();
        let end = (t0 + dur).min(t0 + ctx.cfg.phase_timeout);
        let tasks: Vec<_> = (0..conc)
            .map(|_| {
                let up = t.up.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    'outer: loop {
                        // Each worker appends to its own upload; a new one at `rollover` bytes.
                        let mut id: Option<String> = None;
                        let mut off = 0u64;
                        while off < rollover {
                            if Instant::now() >= end {
                                break 'outer;
                            }
                            let (new_id, dt) =
                                up.chunk(id.as_deref(), off, chunk, rollover).await?;
                            id = Some(new_id);
                            off += chunk;
                            lat.push(dt);
                        }
                    }
                    Ok::<_, anyhow::Error>(lat)
                })
            })
            .collect();
        let mut lat = Vec::new();
        for task in tasks {
            lat.extend(task.await??);
        }
        let wall = t0.elapsed().as_secs_f64();
        let cpu = mark.stop();
        let srv_cpu = sys::proc_cpu(t.pid, t.with_children) - srv0;
        lat.sort_by(f64::total_cmp);
        let rps = lat.len() as f64 / wall;
        eprintln!(
            "bench: [{}] {what}: {rps:.0} req/s ({} requests in {wall:.1} s), p50 {:.1} ms p99 {:.1} ms",
            t.srv.name(),
            lat.len(),
            percentile(&lat, 0.5),
            percentile(&lat, 0.99)
        );
        res.set(
            &format!("{what}: requests/s"),
            true,
            t.srv,
            rps,
            format!("{rps:.0}"),
            false,
        );
        res.details.push(format!(
            "{}: {what}: {} requests, p50 {}, p99 {}",
            t.srv.name(),
            lat.len(),
            fmt_lat(percentile(&lat, 0.5)),
            fmt_lat(percentile(&lat, 0.99))
        ));
        res.cpu(&what, t.srv, cpu, srv_cpu);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// main

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn service_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CHUNKED_UPLOAD_BIN") {
        return Ok(PathBuf::from(p));
    }
    // target/<profile>/examples/bench -> target/<profile>/chunked-upload
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("odd exe path {}", exe.display()))?;
    Ok(dir.join("chunked-upload"))
}

fn cmd_out(program: &str, args: &[&str], cwd: &Path) -> String {
    std::process::Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut best = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let m = if p.is_dir() {
            newest_mtime(&p)
        } else {
            e.metadata().ok().and_then(|m| m.modified().ok())
        };
        best = best.max(m);
    }
    best
}

async fn run(cfg: Cfg) -> Result<()> {
    let started = Instant::now();
    let load_start = sys::loadavg();
    if load_start > 0.5 {
        eprintln!(
            "bench: warning: load average is {load_start:.2} before starting: something else is using the CPU, \
             the numbers will be noisy (this machine has {} cores)",
            sys::machine().nproc
        );
    }
    let repo = repo_root();
    let refsite = repo.join("compat-tests/refsite");
    let venv = repo.join("compat-tests/.venv-patched");
    let python = venv.join("bin/python");
    let gunicorn = venv.join("bin/gunicorn");
    let want_rust = cfg.servers.contains(&Srv::Rust);
    let binary = service_binary()?;
    // Django is needed even with --only rust: its login page makes the cookies.
    if !python.exists() || !gunicorn.exists() {
        bail!(
            "the patched Django venv is missing ({} / {}): create it with compat-tests/setup.sh",
            python.display(),
            gunicorn.display()
        );
    }
    if want_rust && !binary.is_file() {
        bail!(
            "the service binary {} is missing: build it with `cargo build --release`",
            binary.display()
        );
    }
    let mut res = Results::default();
    if want_rust {
        let bin_m = std::fs::metadata(&binary)?.modified()?;
        if newest_mtime(&repo.join("src")).is_some_and(|m| m > bin_m) {
            let n = format!("{} is older than files in src/: it may not be what src/ says (cargo build --release)", binary.display());
            eprintln!("bench: warning: {n}");
            res.notes.push(n);
        }
    }

    // Signals: clean up, then exit.
    tokio::spawn(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("bench: interrupted: stopping servers and cleaning up");
        setup::cleanup();
        eprintln!("bench: interrupted; cleaned up");
        std::process::exit(130);
    });

    // Work directory (logs stay, media goes) on the same disk as the build.
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string();
    // target/<profile>/examples/bench -> target/
    let exe = std::env::current_exe()?;
    let target_dir = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.join("target"));
    let work = target_dir
        .join("bench")
        .join(format!("{stamp}-{}", std::process::id()));
    let media = work.join("media");
    let logs = work.join("logs");
    std::fs::create_dir_all(&media)?;
    std::fs::create_dir_all(&logs)?;
    setup::register_remove(media.clone());
    eprintln!("bench: work dir {} (server logs in logs/)", work.display());

    // The data, once; the expected md5s in a thread meanwhile.
    let data = make_data();
    let mut points = vec![cfg.single_size, cfg.c16.1, cfg.c64.1, cfg.single_chunks[0]];
    points.push(cfg.rps.1);
    let md5_thread = {
        let d = data.clone();
        std::thread::spawn(move || md5_points(&d, &points))
    };

    // PostgreSQL, database, migrate, user.
    let (admin, own_pg) = match std::env::var("DATABASE_URL") {
        Ok(u) if !u.is_empty() => (u, false),
        _ => {
            eprintln!("bench: starting PostgreSQL with scripts/pg.sh");
            (setup::start_pg(&repo)?, true)
        }
    };
    let dbname = format!(
        "cu_bench_{}_{}",
        std::process::id(),
        stamp.replace('-', "_")
    );
    let db_url = setup::create_database(&admin, &dbname, !own_pg)?;
    let fsync = setup::psql(&db_url, "SHOW fsync").unwrap_or_else(|_| "?".into());
    let sync_commit =
        setup::psql(&db_url, "SHOW synchronous_commit").unwrap_or_else(|_| "?".into());
    let pg_version = setup::psql(&db_url, "SHOW server_version").unwrap_or_else(|_| "?".into());
    let secret = format!("bench-{}", hex(&rand::random::<[u8; 24]>()));
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        ),
        (
            "HOME".into(),
            std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
        ),
        ("LANG".into(), "C.UTF-8".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
        ("DATABASE_URL".into(), db_url.clone()),
        ("SECRET_KEY".into(), secret),
        ("MEDIA_ROOT".into(), media.display().to_string()),
        ("ALLOWED_HOSTS".into(), "127.0.0.1,localhost".into()),
        ("TIME_ZONE".into(), "UTC".into()),
        ("USE_TZ".into(), "True".into()),
        ("CHUNKED_UPLOAD_COMPAT".into(), "patched".into()),
        ("DJANGO_VERSION".into(), "5.2".into()),
    ];
    eprintln!("bench: migrating database {dbname} with Django");
    setup::run_manage(
        &python,
        &refsite,
        &env,
        &["migrate", "--noinput", "-v", "0"],
    )?;
    let password = format!("pw-{}", hex(&rand::random::<[u8; 8]>()));
    setup::create_user(&db_url, "bench", &password)?;
    let versions = {
        let code = "import django, importlib.metadata as m\n\
                    def v(p):\n    try: return m.version(p)\n    except Exception: return '?'\n\
                    import sys; print('Python %s, Django %s, django-chunked-upload-patched %s, gunicorn %s' % \
                    (sys.version.split()[0], django.get_version(), v('django-chunked-upload-patched'), v('gunicorn')))";
        cmd_out(&python.display().to_string(), &["-c", code], &refsite)
    };

    // Servers.
    let client = new_client();
    let dj_port = setup::free_port()?;
    let port_s = format!("127.0.0.1:{dj_port}");
    let django = Proc::spawn(
        "gunicorn",
        &gunicorn,
        &[
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            &port_s,
            "--timeout",
            "300",
            "--graceful-timeout",
            "5",
            "refsite.wsgi:application",
        ],
        &env,
        &refsite,
        logs.join("django.log"),
    )?;
    let mut rust: Option<(Proc, u16)> = None;
    if want_rust {
        let port = setup::free_port()?;
        let mut renv = env.clone();
        renv.push(("LISTEN".into(), format!("127.0.0.1:{port}")));
        renv.push(("RUST_LOG".into(), "warn".into()));
        let p = Proc::spawn(
            "chunked-upload",
            &binary,
            &["serve"],
            &renv,
            &repo,
            logs.join("rust.log"),
        )?;
        rust = Some((p, port));
    }
    django
        .wait_ready(
            &client,
            dj_port,
            "/accounts/login/",
            Duration::from_secs(60),
        )
        .await?;
    if let Some((p, port)) = &rust {
        p.wait_ready(&client, *port, UPLOAD_PATH, Duration::from_secs(60))
            .await?;
    }
    let login = setup::login(&client, dj_port, "bench", &password).await?;
    eprintln!("bench: logged in through Django's login page");
    env.clear();

    let mut targets = Vec::new();
    for &srv in &cfg.servers {
        let (pid, port, with_children) = match srv {
            Srv::Rust => {
                let (p, port) = rust.as_ref().unwrap();
                (p.pid, *port, false)
            }
            Srv::Django => (django.pid, dj_port, true),
        };
        let up = Arc::new(Uploader {
            srv,
            client: client.clone(),
            base: format!("http://127.0.0.1:{port}"),
            cookie: login.cookie.clone(),
            csrf: login.csrf.clone(),
            data: data.clone(),
        });
        targets.push(Target {
            srv,
            pid,
            with_children,
            up,
        });
    }
    if !cfg.servers.contains(&Srv::Django) {
        setup::stop_process(django.pid); // only needed for the login
    }

    let md5s = Md5s {
        data: data.clone(),
        known: Arc::new(Mutex::new(
            md5_thread
                .join()
                .map_err(|_| anyhow!("md5 thread panicked"))?,
        )),
    };

    // Warm-up and sanity check: a few small uploads, completed, on each server
    // (boots both gunicorn workers' code paths, checks the cookies on Rust).
    for t in &targets {
        let deadline = Instant::now() + Duration::from_secs(60);
        let (seqs, _) = concurrent(&t.up, 4, 2 * cfg.rps.1, cfg.rps.1, deadline).await?;
        complete_all(&t.up, &seqs, &md5s).await?;
        let rss = sys::rss_tree(t.pid, t.with_children) as f64 / MIB as f64;
        res.set(
            "RSS of the server after warm-up: MiB",
            false,
            t.srv,
            rss,
            format!("{rss:.0}"),
            false,
        );
    }
    eprintln!(
        "bench: warm-up uploads completed on {}",
        cfg.servers
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(" and ")
    );

    let ctx = Ctx {
        cfg,
        media: media.clone(),
        md5s,
        targets,
    };
    let phase = |name: &str| {
        eprintln!(
            "bench: --- {name} ({:.0} s elapsed)",
            started.elapsed().as_secs_f64()
        )
    };

    phase("machine ceilings");
    ceilings(&ctx.cfg, &data, &media, &client, &mut res).await?;
    phase("single uploads");
    phase_single(&ctx, &mut res).await?;
    phase("16 concurrent uploads");
    phase_concurrent(&ctx, &mut res, ctx.cfg.c16, true).await?;
    phase("request rate");
    phase_rps(&ctx, &mut res).await?;
    phase("64 concurrent uploads, big chunks");
    phase_concurrent(&ctx, &mut res, ctx.cfg.c64, false).await?;
    settle(&media).await?;

    // The table.
    let m = sys::machine();
    let git = cmd_out("git", &["describe", "--always", "--dirty"], &repo);
    let header = format!(
        "### chunked-upload vs django-chunked-upload: {}{}\n\n\
         Machine: nproc {}, {}, {:.0} GiB RAM, Linux {}. Run on {}.\n\
         Django: {versions}, gunicorn 2 sync workers, DEBUG=False. Rust: `chunked-upload serve` ({}; git {git}).\n\
         Both on one PostgreSQL {pg_version} database (fsync={fsync}, synchronous_commit={sync_commit}) and one MEDIA_ROOT on the same disk, \
         127.0.0.1 only; client: this bench (hyper 1, pooled keep-alive connections, multipart bodies streamed from one \
         64 MiB random buffer); total run {:.0} s. Load average (1 min) before the run {load_start:.2}, after {:.2}.",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        if ctx.cfg.quick { " (--quick: sizes 1/16)" } else { "" },
        m.nproc,
        m.cpu_model,
        m.mem_gib,
        m.kernel,
        chrono::Utc::now().format("%Y-%m-%d"),
        binary.display(),
        started.elapsed().as_secs_f64(),
        sys::loadavg(),
    );
    res.notes.push(
        "Django's RSS is gunicorn's master plus its workers summed (their shared copy-on-write pages count twice); \
         Rust's is its one process. Sampled from /proc every 20 ms; PostgreSQL is not counted for either."
            .into(),
    );
    res.notes.push(
        "Between measurements the upload files are deleted and the file system synced (outside the timings); \
         each measurement runs against rust first, then django. The service's own options \
         (CHUNKED_UPLOAD_FSYNC, …) are left at their defaults; neither server fsyncs chunks."
            .into(),
    );
    for (name, log) in [
        ("django", logs.join("django.log")),
        ("rust", logs.join("rust.log")),
    ] {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                ["error", "critical", "traceback", "warn", "panic"]
                    .iter()
                    .any(|w| l.contains(w))
            })
            .collect();
        if !bad.is_empty() {
            let n = format!(
                "{name}'s log ({}) has {} error/warning lines; first: {}",
                log.display(),
                bad.len(),
                bad[0].chars().take(200).collect::<String>()
            );
            eprintln!("bench: {n}");
            res.notes.push(n);
        }
    }
    let md = res.markdown(&header);
    println!("{md}");
    let out = work.join("results.md");
    std::fs::write(&out, &md)?;
    eprintln!(
        "bench: table written to {}; total {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    drop(rust);
    Ok(())
}

fn main() -> ExitCode {
    let cfg = match Cfg::from_args() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench: {e:#}");
            return ExitCode::from(2);
        }
    };
    let guard = setup::CleanupGuard;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = rt.block_on(run(cfg));
    rt.shutdown_timeout(Duration::from_secs(2));
    drop(guard); // stop the servers (and PostgreSQL if we started it), remove MEDIA_ROOT
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) if setup::closed() => ExitCode::from(130), // interrupted: errors are its echoes
        Err(e) => {
            eprintln!("\nbench: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}
