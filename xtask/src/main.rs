//! Developer tasks: `cargo xtask bench`.

mod bench;
mod util;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") => bench::main(),
        _ => {
            eprintln!(
                "usage: cargo xtask bench\n\n  bench   no-op build benchmarks; writes BENCHMARKS.md"
            );
            std::process::exit(2);
        }
    }
}
