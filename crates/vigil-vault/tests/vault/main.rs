//! Integration tests of the evidence vault: local tampering, bundles, and S3 Object Lock
//! against moto.

mod bundle;
mod common;
mod local;
mod s3;
