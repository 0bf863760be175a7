//! The baton command-line program.

fn main() {}
