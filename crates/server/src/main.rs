//! `xclade-customers`: parse the command line, run it, report failures as one stderr line.

use clap::Parser;

/// jemalloc instead of the system allocator: a request allocates and frees many small buffers
/// (rows, JSON, headers), and glibc's malloc spent about a tenth of the server's CPU on a
/// customer read doing so. mimalloc saved as much CPU but doubled the peak RSS, past the 64 MB
/// target under the list load (docs/benchmarks.md, change 20).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let cli = match xclade_server::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return std::process::ExitCode::from(code);
        }
    };
    let logs = xclade_server::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(xclade_server::cli::run(cli));
    // The log lines still buffered go out before the last words.
    logs.flush();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
