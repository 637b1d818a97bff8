//! vmkflow reads packet captures of VMware vSphere hosts and tells, with numbers, which VMkernel
//! network carried which migration traffic.
//!
//! The pipeline, one module per stage, data flowing one way:
//!
//! ```text
//!  capture  ->  decode  ->  set  ->  (flow -> classify -> migration -> verify)  ->  report
//!  pcap/pcapng  zero-copy   merge,                                                  JSON, text
//!  file/stdin   summaries   copies, clocks
//! ```
//!
//! [`analyze::run`] drives the stages over a [`capture::CaptureReader`];
//! [`analyze::run_set`] over several, read as one capture set.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod analyze;
pub mod capture;
pub mod classify;
pub mod decode;
pub mod events;
pub mod flow;
#[doc(hidden)]
pub mod fuzzing;
pub mod labels;
pub mod live;
pub mod migration;
pub mod parallel;
pub mod report;
pub mod set;
pub mod synth;
pub mod verify;
pub mod vocab;
