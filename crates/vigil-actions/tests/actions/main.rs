//! vigil-actions against moto, as one test binary: every action dry-run (nothing changes),
//! executed (the state read back), re-run (already done), and refused on a protected
//! resource.
//!
//! One binary rather than one per file: each links the whole AWS SDK (over 100 MB apiece),
//! which costs CI minutes of linking and gigabytes of disk.

mod common;
mod ec2_containment;
mod ec2_forensics;
mod misc_credentials;
mod misc_exposure;
mod misc_notify;
mod permissions;
mod ssm_capture;
