//! `baton-bench`: the fan-out load tool (see the crate's README section in
//! the workspace README). Work in progress.

#![forbid(unsafe_code)]

fn main() {
    eprintln!("baton-bench: not built yet");
    std::process::exit(2);
}
