//! vigil-input against the AWS documentation samples in `tests/data/aws-samples` (see its
//! README for provenance and licences) and against generated bad input.

mod bad_input;
mod cloudtrail;
mod findings;
mod helpers;
mod text_logs;
