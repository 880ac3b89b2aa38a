//! The world both servers share: PostgreSQL, a fresh database migrated by
//! Django, a user, MEDIA_ROOT; the server processes; logging in through
//! Django's login page. Every child process and temporary resource is
//! registered so that `cleanup()` (run from a Drop guard, and from the
//! SIGINT/SIGTERM handler) stops and removes it whatever happens.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
use hyper::Request;
use md5::{Digest, Md5};
use std::os::unix::process::CommandExt;

use super::http::{send, HttpClient, Parts};

// ---------------------------------------------------------------------------
// cleanup registry

#[derive(Default)]
struct Registry {
    /// (name, process group id == leader pid), in start order.
    groups: Vec<(String, i32)>,
    /// scripts/pg.sh cluster directory we started.
    pg_dir: Option<(PathBuf, PathBuf)>,
    /// (admin url, database name) to drop when we did not start PostgreSQL.
    drop_db: Option<(String, String)>,
    /// directories to remove at the end.
    remove: Vec<PathBuf>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
/// Set once cleanup has started: anything started later is stopped at once.
static CLOSED: AtomicBool = AtomicBool::new(false);

pub fn closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

fn with_registry<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut g = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Registry::default))
}

pub fn register_remove(dir: PathBuf) {
    with_registry(|r| r.remove.push(dir));
}

/// Stop everything we started and remove temporary data. Idempotent.
/// The lock is held throughout, so a second caller (the signal handler and
/// the Drop guard racing) waits until everything is stopped and removed.
pub fn cleanup() {
    let mut g = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    CLOSED.store(true, Ordering::SeqCst);
    let Some(reg) = g.take() else { return };
    for (name, pgid) in reg.groups.iter().rev() {
        stop_group(name, *pgid);
    }
    if let Some((admin, db)) = reg.drop_db {
        let _ = psql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
        );
    }
    if let Some((script, dir)) = reg.pg_dir {
        let _ = Command::new(script)
            .arg("stop")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = fs::remove_dir_all(&dir);
    }
    for d in reg.remove {
        let _ = fs::remove_dir_all(&d);
    }
}

pub struct CleanupGuard;

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        cleanup();
    }
}

/// SIGTERM the whole process group, reap the leader, SIGKILL after 10 s.
fn stop_group(name: &str, pgid: i32) {
    unsafe { libc::killpg(pgid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut status = 0;
        unsafe { libc::waitpid(pgid, &mut status, libc::WNOHANG) };
        let gone = unsafe { libc::kill(-pgid, 0) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            return;
        }
        if Instant::now() > deadline {
            eprintln!("bench: {name} (pgid {pgid}) ignored SIGTERM for 10 s; SIGKILL");
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
            std::thread::sleep(Duration::from_millis(200));
            unsafe { libc::waitpid(pgid, &mut status, libc::WNOHANG) };
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stop one registered process now (and forget it).
pub fn stop_process(pid: i32) {
    let entry = with_registry(|r| {
        let i = r.groups.iter().position(|(_, p)| *p == pid)?;
        Some(r.groups.remove(i))
    });
    if let Some((name, pgid)) = entry {
        stop_group(&name, pgid);
    }
}

// ---------------------------------------------------------------------------
// processes

pub struct Proc {
    pub name: String,
    pub pid: i32,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        env: &[(String, String)],
        cwd: &Path,
        log: PathBuf,
    ) -> Result<Proc> {
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name}: {}", program.display()))?;
        let pid = child.id() as i32;
        with_registry(|r| r.groups.push((name.to_string(), pid)));
        // The registry owns the process from now on (stop_group reaps it).
        std::mem::forget(child);
        if closed() {
            stop_group(name, pid);
            bail!("interrupted");
        }
        Ok(Proc {
            name: name.to_string(),
            pid,
            log,
        })
    }

    /// false once the process has exited (reaps it).
    pub fn alive(&self) -> bool {
        let mut status = 0;
        unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) == 0 }
    }

    pub fn log_tail(&self) -> String {
        let s = fs::read(&self.log).unwrap_or_default();
        let s = &s[s.len().saturating_sub(3000)..];
        String::from_utf8_lossy(s).into_owned()
    }

    /// Wait until the server answers any HTTP request on `path`.
    pub async fn wait_ready(
        &self,
        client: &HttpClient,
        port: u16,
        path: &str,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.alive() {
                bail!(
                    "{} exited before accepting connections; log {}:\n{}",
                    self.name,
                    self.log.display(),
                    self.log_tail()
                );
            }
            let req = Request::get(format!("http://127.0.0.1:{port}{path}")).body(Parts::empty())?;
            if send(client, req, Duration::from_secs(20)).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not answer within {timeout:?}; log {}:\n{}",
                    self.name,
                    self.log.display(),
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

// ---------------------------------------------------------------------------
// PostgreSQL

fn psql_bin() -> PathBuf {
    let p = PathBuf::from("/usr/lib/postgresql/15/bin/psql");
    if p.exists() {
        p
    } else {
        PathBuf::from("psql")
    }
}

pub fn psql(url: &str, sql: &str) -> Result<String> {
    let out = Command::new(psql_bin())
        .args([
            url,
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .stdin(Stdio::null())
        .output()
        .context("running psql (apt-get install postgresql-client-15)")?;
    if !out.status.success() {
        bail!(
            "psql failed on {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Same URL, other database name.
pub fn with_db(url: &str, db: &str) -> Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow!("DATABASE_URL is not a URL: {url}"))?;
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map(|i| &tail[i..]).unwrap_or("");
    Ok(format!("{scheme}://{authority}/{db}{query}"))
}

/// Start a private cluster with scripts/pg.sh; returns its admin URL.
pub fn start_pg(repo: &Path) -> Result<String> {
    let script = repo.join("scripts/pg.sh");
    // Under /tmp so that the `postgres` OS user can reach it when we are root.
    let dir = PathBuf::from(format!(
        "/tmp/chunked-upload-bench-pg-{}",
        std::process::id()
    ));
    let port = free_port()?;
    with_registry(|r| r.pg_dir = Some((script.clone(), dir.clone())));
    let out = Command::new(&script)
        .arg("start")
        .arg(&dir)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!("scripts/pg.sh start failed ({})", out.status);
    }
    if closed() {
        let _ = Command::new(&script).arg("stop").arg(&dir).status();
        bail!("interrupted");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL=").map(str::to_string))
        .ok_or_else(|| anyhow!("scripts/pg.sh printed no DATABASE_URL: {stdout}"))
}

/// Create a fresh database on the admin URL; returns its URL.
pub fn create_database(admin: &str, name: &str, drop_at_end: bool) -> Result<String> {
    psql(admin, &format!("CREATE DATABASE {name}"))?;
    if drop_at_end {
        with_registry(|r| r.drop_db = Some((admin.to_string(), name.to_string())));
    }
    with_db(admin, name)
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The user row Django would have (MD5PasswordHasher, listed first in the
/// refsite's PASSWORD_HASHERS), like compat-tests/compatlib.py does it.
pub fn create_user(db_url: &str, username: &str, password: &str) -> Result<()> {
    let salt = hex(&rand::random::<[u8; 12]>());
    let encoded = format!(
        "md5${salt}${}",
        hex(&Md5::digest(format!("{salt}{password}").as_bytes()))
    );
    psql(
        db_url,
        &format!(
            "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, \
             email, is_staff, is_active, date_joined) VALUES ('{encoded}', NULL, false, '{username}', '', '', '', \
             false, true, now())"
        ),
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Django

pub fn run_manage(
    python: &Path,
    refsite: &Path,
    env: &[(String, String)],
    args: &[&str],
) -> Result<String> {
    let out = Command::new(python)
        .arg("manage.py")
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(refsite)
        .stdin(Stdio::null())
        .output()
        .context("running manage.py")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("manage.py {} failed:\n{text}", args.join(" "));
    }
    Ok(text)
}

/// Cookies and CSRF header value of a logged-in browser.
pub struct Login {
    pub cookie: String,
    pub csrf: String,
}

/// GET the login page (csrftoken cookie + form token), POST the credentials.
pub async fn login(
    client: &HttpClient,
    port: u16,
    username: &str,
    password: &str,
) -> Result<Login> {
    let url = format!("http://127.0.0.1:{port}/accounts/login/");
    let r = send(
        client,
        Request::get(&url).body(Parts::empty())?,
        Duration::from_secs(30),
    )
    .await?;
    if r.status != 200 {
        bail!(
            "GET /accounts/login/ answered {}: {}",
            r.status,
            r.excerpt()
        );
    }
    let mut cookies: Vec<(String, String)> = r.set_cookies();
    let page = String::from_utf8_lossy(&r.body);
    let marker = "name=\"csrfmiddlewaretoken\" value=\"";
    let i = page
        .find(marker)
        .ok_or_else(|| anyhow!("no csrfmiddlewaretoken on the login page"))?
        + marker.len();
    let token: String = page[i..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let cookie_header = |cs: &[(String, String)]| {
        cs.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let form = format!("csrfmiddlewaretoken={token}&username={username}&password={password}");
    let req = Request::post(&url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(CONTENT_LENGTH, form.len())
        .header(COOKIE, cookie_header(&cookies))
        .body(Parts::new([Bytes::from(form)]))?;
    let r = send(client, req, Duration::from_secs(30)).await?;
    if r.status != 302 {
        bail!(
            "login POST answered {} (expected 302): {}",
            r.status,
            r.excerpt()
        );
    }
    for (k, v) in r.set_cookies() {
        cookies.retain(|(n, _)| *n != k);
        cookies.push((k, v));
    }
    let get = |n: &str| cookies.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let (Some(session), Some(csrf)) = (get("sessionid"), get("csrftoken")) else {
        bail!(
            "login did not set sessionid and csrftoken (got {:?})",
            cookies.iter().map(|c| &c.0).collect::<Vec<_>>()
        );
    };
    Ok(Login {
        cookie: format!("sessionid={session}; csrftoken={csrf}"),
        csrf,
    })
}
