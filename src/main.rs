//! `chunked-upload`: a short bootstrap; see `cli` for the subcommands.

use clap::Parser;

fn main() {
    // glibc gives every thread that allocates its own arena and keeps what it
    // frees: with a writer thread per in-flight chunk, RSS grows with the
    // number of chunks ever in flight. Two arenas keep it flat.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    // One async thread by default: the heavy work (md5, file writes) runs on
    // blocking threads, and on a small machine cross-thread wake-ups of a
    // work-stealing runtime cost more than they give (see README, Benchmark).
    let threads = std::env::var("ASYNC_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let code = runtime.expect("tokio runtime").block_on(run());
    std::process::exit(code);
}

async fn run() -> i32 {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = chunked_upload::cli::Cli::parse();
    match chunked_upload::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chunked-upload: {e}");
            2
        }
    }
}
