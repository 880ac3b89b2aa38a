//! `chunked-upload`: a short bootstrap; see `cli` for the subcommands.

use clap::Parser;

#[tokio::main]
async fn main() {
    // glibc gives every thread that allocates its own arena and keeps what it
    // frees: with a writer thread per in-flight chunk, RSS grows with the
    // number of chunks ever in flight. Two arenas keep it flat.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = chunked_upload::cli::Cli::parse();
    match chunked_upload::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("chunked-upload: {e}");
            std::process::exit(2);
        }
    }
}
