//! The integration tests: one binary, topic modules in `tests/it/` (ripgrep's layout).
//!
//! They run the real `vmkflow` executable and read its JSON report, or drive the library's
//! capture reader directly where a check needs per-packet values.

#[path = "it/util.rs"]
mod util;

#[path = "it/answers.rs"]
mod answers;
#[path = "it/bad_input.rs"]
mod bad_input;
#[path = "it/cli.rs"]
mod cli;
#[path = "it/conversations.rs"]
mod conversations;
#[path = "it/corpus.rs"]
mod corpus;
#[path = "it/events.rs"]
mod events;
#[path = "it/findings.rs"]
mod findings;
#[path = "it/findings_health.rs"]
mod findings_health;
#[path = "it/findings_payload.rs"]
mod findings_payload;
#[path = "it/flows.rs"]
mod flows;
#[path = "it/fuzz_regressions.rs"]
mod fuzz_regressions;
#[path = "it/golden.rs"]
mod golden;
#[path = "it/html.rs"]
mod html;
#[path = "it/input_files.rs"]
mod input_files;
#[path = "it/live.rs"]
mod live;
#[path = "it/memory.rs"]
mod memory;
#[path = "it/netns.rs"]
mod netns;
#[path = "it/parquet.rs"]
mod parquet;
#[path = "it/sets.rs"]
mod sets;
#[path = "it/synth.rs"]
mod synth;
#[path = "it/threads.rs"]
mod threads;
#[path = "it/verify.rs"]
mod verify;
