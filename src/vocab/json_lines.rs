//! Line numbers of JSON values, for errors and warnings about files people write by hand.
//!
//! serde_json's syntax errors carry a line and column, but a value that parses says nothing of
//! where it was: an inventory's duplicate host or a label's unknown host could only be named, not
//! found. [`from_reader`] reads JSON while counting the lines the parser has consumed, and a
//! [`Located`] value inside the document records the line on which it starts.
//!
//! The parser reads one byte ahead; an element of an array is handed to its deserializer once its
//! first byte has been read, so `Located` is exact for array elements (`[{…}, {…}]`, the only place
//! the input files use it). The count lives in a thread-local set up by [`from_reader`]: serde's
//! derived deserializers cannot carry state, and a document is read on one thread. Outside
//! `from_reader` (e.g. `serde_json::from_str`), a `Located` value has line 0.

use std::cell::Cell;
use std::io::{self, Read};

use serde::de::{Deserialize, DeserializeOwned, DeserializeSeed, Deserializer};

thread_local! {
    /// Newlines consumed by the parser of the document being read; `None` outside [`from_reader`].
    static NEWLINES: Cell<Option<usize>> = const { Cell::new(None) };
}

/// A value and the line (1-based) on which it starts in the file read by [`from_reader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The line of the value's first character; 0 when not read by [`from_reader`].
    pub line: usize,
    /// The value.
    pub value: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Located<T>, D::Error> {
        let line = NEWLINES.with(|n| n.get()).map_or(0, |n| n + 1);
        let value = T::deserialize(d)?;
        Ok(Located { line, value })
    }
}

/// A buffered reader that counts the newlines it hands out into [`NEWLINES`]. serde_json reads
/// one byte at a time: that byte is served from the buffer without a call through `BufReader`.
struct Counting<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
}

impl<R: Read> Counting<R> {
    fn new(inner: R) -> Counting<R> {
        Counting {
            inner,
            buf: vec![0; 64 * 1024].into_boxed_slice(),
            pos: 0,
            end: 0,
        }
    }

    fn count(bytes: &[u8]) {
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
        if newlines > 0 {
            NEWLINES.with(|c| c.set(c.get().map(|l| l + newlines)));
        }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.end {
            self.end = self.inner.read(&mut self.buf)?;
            self.pos = 0;
        }
        let n = out.len().min(self.end - self.pos);
        if n == 1 {
            let b = self.buf[self.pos];
            out[0] = b;
            if b == b'\n' {
                NEWLINES.with(|c| c.set(c.get().map(|l| l + 1)));
            }
        } else {
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            Self::count(&out[..n]);
        }
        self.pos += n;
        Ok(n)
    }
}

/// Restores the previous count when a read ends, however it ends.
struct Restore(Option<usize>);

impl Drop for Restore {
    fn drop(&mut self) {
        NEWLINES.with(|c| c.set(self.0));
    }
}

/// Reads one JSON document from `reader` (buffered here), recording the line of every
/// [`Located`] value in it.
pub fn from_reader<T: DeserializeOwned>(reader: impl Read) -> serde_json::Result<T> {
    from_reader_seed(reader, std::marker::PhantomData::<T>)
}

/// [`from_reader`] with a seed: the document is handed to `seed` as it is parsed (to keep what it
/// needs of a large file without holding the file's form of it).
pub fn from_reader_seed<S, V>(reader: impl Read, seed: S) -> serde_json::Result<V>
where
    S: for<'de> DeserializeSeed<'de, Value = V>,
{
    let _restore = Restore(NEWLINES.with(|c| c.replace(Some(0))));
    let mut de = serde_json::Deserializer::from_reader(Counting::new(reader));
    let value = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Doc {
        items: Vec<Located<Item>>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Item {
        name: String,
    }

    fn lines(text: &str) -> Vec<(usize, String)> {
        let doc: Doc = from_reader(text.as_bytes()).unwrap();
        doc.items
            .into_iter()
            .map(|l| (l.line, l.value.name))
            .collect()
    }

    #[test]
    fn elements_are_located_on_their_first_line() {
        let text = "{\n  \"items\": [\n    {\n      \"name\": \"a\\n\\\"b\\\"\"\n    },\n\n    {\"name\": \"c\"}, {\"name\":\n \"d\"}\n  ]\n}\n";
        assert_eq!(
            lines(text),
            vec![
                (3, "a\n\"b\"".to_string()),
                (7, "c".to_string()),
                (7, "d".to_string())
            ]
        );
        // All on one line.
        assert_eq!(
            lines(r#"{"items":[{"name":"x"},{"name":"y"}]}"#),
            vec![(1, "x".to_string()), (1, "y".to_string())]
        );
        // Whitespace before an element counts toward its line, not the one before.
        assert_eq!(
            lines("{\"items\":[{\"name\":\"x\"}\n,\n\n{\"name\":\"y\"}]}"),
            vec![(1, "x".to_string()), (4, "y".to_string())]
        );
    }

    #[test]
    fn lines_are_counted_across_buffer_refills() {
        // About 400 KB: several refills of the 64 KiB buffer.
        let items: Vec<String> = (0..20_000)
            .map(|i| format!("{{\"name\": \"{i:016}\"}}"))
            .collect();
        let text = format!("{{\"items\": [\n{}\n]}}", items.join(",\n"));
        let got = lines(&text);
        assert_eq!(got.len(), 20_000);
        for (i, (line, name)) in got.iter().enumerate() {
            assert_eq!((*line, name.as_str()), (i + 2, format!("{i:016}").as_str()));
        }
        // A reader asked for more than one byte counts them all.
        let _restore = Restore(NEWLINES.with(|c| c.replace(Some(0))));
        let mut r = Counting::new(text.as_bytes());
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(NEWLINES.with(|c| c.get()), Some(20_001));
    }

    #[test]
    fn outside_from_reader_the_line_is_zero_and_the_count_is_restored() {
        let doc: Doc = serde_json::from_str(r#"{"items":[{"name":"x"}]}"#).unwrap();
        assert_eq!(doc.items[0].line, 0);
        let bad: serde_json::Result<Doc> = from_reader("{\"items\":\n[".as_bytes());
        assert!(bad.is_err());
        assert_eq!(NEWLINES.with(|c| c.get()), None);
    }
}
