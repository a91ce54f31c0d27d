//! End-to-end tests of the `vigil` binary: one harness, shared helpers in `common`.

mod bad_input;
mod common;
mod detect;
mod evidence;
mod findings;
mod respond;
mod rules;
