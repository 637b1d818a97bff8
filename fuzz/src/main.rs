//! The AFL++ harness: `vmkflow-afl TARGET` runs one of `vmkflow::fuzzing`'s targets on each input
//! AFL++ gives it (persistent mode, through the `afl` crate). Built with `cargo afl build`, run by
//! `fuzz/run.sh`; see docs/fuzzing.md.
//!
//! Run by hand on a file, outside AFL++, it reads the input from standard input once:
//! `fuzz/target/release/vmkflow-afl capture < crash` reproduces a crash.

fn main() {
    let target = std::env::args().nth(1).unwrap_or_default();
    if !vmkflow::fuzzing::TARGETS.contains(&target.as_str()) {
        eprintln!(
            "usage: vmkflow-afl TARGET < INPUT   (TARGET: {})",
            vmkflow::fuzzing::TARGETS.join(", ")
        );
        std::process::exit(2);
    }
    afl::fuzz!(|data: &[u8]| {
        let _ = vmkflow::fuzzing::run(&target, data);
    });
}
