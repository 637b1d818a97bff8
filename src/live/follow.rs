//! Following a capture file that another program is still writing, like `tail -f`.
//!
//! In: an open file, the stop flag and an optional idle limit. Out: a [`Read`] that, at the
//! current end of the file, waits for more bytes instead of reporting the end. It reports the end
//! only when the stop flag is set or the file has not grown for the idle limit. A record cut at
//! the current end is therefore never seen as truncated while following: the reader just waits
//! for the rest of it.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How often the end of a followed file is polled for growth.
pub const POLL: Duration = Duration::from_millis(200);

/// A file read as it grows.
pub struct Follow {
    file: File,
    stop: Arc<AtomicBool>,
    idle: Option<Duration>,
    last_growth: Instant,
    idled: Arc<AtomicBool>,
}

impl Follow {
    /// Follows `file`; ends on `stop`, or after `idle` without growth when given. `idled` is set
    /// when the end came from the idle limit.
    pub fn new(
        file: File,
        stop: Arc<AtomicBool>,
        idle: Option<Duration>,
        idled: Arc<AtomicBool>,
    ) -> Follow {
        Follow {
            file,
            stop,
            idle,
            last_growth: Instant::now(),
            idled,
        }
    }
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 || buf.is_empty() {
                self.last_growth = Instant::now();
                return Ok(n);
            }
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            if self.idle.is_some_and(|d| self.last_growth.elapsed() >= d) {
                self.idled.store(true, Ordering::Relaxed);
                return Ok(0);
            }
            std::thread::sleep(POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn waits_for_growth_and_ends_when_idle() {
        let dir = std::env::temp_dir().join(format!("vmkflow-follow-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("grow.bin");
        let mut w = File::create(&path).unwrap();
        w.write_all(b"abc").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let idled = Arc::new(AtomicBool::new(false));
        let mut f = Follow::new(
            File::open(&path).unwrap(),
            stop,
            Some(Duration::from_millis(600)),
            idled.clone(),
        );
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(250));
            w.write_all(b"def").unwrap();
        });
        let mut all = Vec::new();
        f.read_to_end(&mut all).unwrap();
        writer.join().unwrap();
        assert_eq!(all, b"abcdef");
        assert!(idled.load(Ordering::Relaxed));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
