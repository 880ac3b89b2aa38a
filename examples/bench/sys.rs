//! Machine facts, the bench process's own CPU use, and RSS sampling of the
//! server processes from /proc.

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// user + sys CPU seconds of this whole process (all threads), from getrusage.
pub fn cpu_seconds() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Client CPU used during one phase.
#[derive(Clone, Copy, Debug)]
pub struct CpuUse {
    pub cpu: f64,
    pub wall: f64,
}

impl CpuUse {
    pub fn fmt(&self) -> String {
        let pct = if self.wall > 0.0 {
            100.0 * self.cpu / self.wall
        } else {
            0.0
        };
        format!("{:.1} s / {:.1} s ({:.0}%)", self.cpu, self.wall, pct)
    }
}

pub struct CpuMark {
    t0: Instant,
    c0: f64,
}

impl CpuMark {
    pub fn start() -> Self {
        CpuMark {
            t0: Instant::now(),
            c0: cpu_seconds(),
        }
    }
    pub fn stop(&self) -> CpuUse {
        CpuUse {
            cpu: cpu_seconds() - self.c0,
            wall: self.t0.elapsed().as_secs_f64(),
        }
    }
}

fn first_line_value(path: &str, key: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// "2 × AMD EPYC, 23.4 GiB RAM, Linux 6.x" and friends.
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub mem_gib: f64,
}

pub fn machine() -> Machine {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cpu_model =
        first_line_value("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".into());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let mem_gib = first_line_value("/proc/meminfo", "MemTotal")
        .and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|n| n.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    Machine {
        nproc,
        cpu_model,
        kernel,
        mem_gib,
    }
}

/// utime+stime of a process (plus, optionally, its current direct children), seconds.
pub fn proc_cpu(pid: i32, with_children: bool) -> f64 {
    fn one(pid: i32) -> f64 {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return 0.0;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return 0.0;
        };
        // after "(comm)": state(3) ppid(4) ... utime(14) stime(15)
        let f: Vec<&str> = rest.split_whitespace().collect();
        let t = |i: usize| {
            f.get(i - 3)
                .and_then(|x| x.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (t(14) + t(15)) / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    }
    let mut total = one(pid);
    if with_children {
        total += children(pid).into_iter().map(one).sum::<f64>();
    }
    total
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0.0)
}

fn page_size() -> u64 {
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as u64 }
}

/// Resident set size of one process in bytes (from /proc/PID/statm).
pub fn rss_bytes(pid: i32) -> Option<u64> {
    let statm = fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

/// Direct children of `pid` (gunicorn's workers, for its master).
pub fn children(pid: i32) -> Vec<i32> {
    if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        return s
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
    }
    // Kernel without CONFIG_PROC_CHILDREN: scan /proc for our PPID.
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) {
                // pid (comm) state ppid ...; comm may contain spaces: split after the last ')'.
                if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                    if rest
                        .split_whitespace()
                        .nth(1)
                        .and_then(|x| x.parse::<i32>().ok())
                        == Some(pid)
                    {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// RSS of a process plus (optionally) its direct children, summed.
pub fn rss_tree(pid: i32, with_children: bool) -> u64 {
    let mut total = rss_bytes(pid).unwrap_or(0);
    if with_children {
        total += children(pid).into_iter().filter_map(rss_bytes).sum::<u64>();
    }
    total
}

/// Samples `rss_tree(pid)` every `every` on its own thread and keeps the peak.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<(u64, u64)>>,
}

impl RssSampler {
    pub fn start(pid: i32, with_children: bool, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                let (mut peak, mut n) = (0u64, 0u64);
                loop {
                    peak = peak.max(rss_tree(pid, with_children));
                    n += 1;
                    if s.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(every);
                }
                (peak, n)
            })
            .expect("spawn rss sampler");
        RssSampler {
            stop,
            handle: Some(handle),
        }
    }

    /// (peak bytes, number of samples)
    pub fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .map(|h| h.join().unwrap_or((0, 0)))
            .unwrap_or((0, 0))
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
