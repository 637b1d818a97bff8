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
use std::io::{self, BufReader, Read};

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

/// A reader that counts the newlines it hands out into [`NEWLINES`].
struct Counting<R> {
    inner: BufReader<R>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let newlines = buf[..n].iter().filter(|&&b| b == b'\n').count();
        if newlines > 0 {
            NEWLINES.with(|c| c.set(c.get().map(|l| l + newlines)));
        }
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
    let mut de = serde_json::Deserializer::from_reader(Counting {
        inner: BufReader::new(reader),
    });
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
    fn outside_from_reader_the_line_is_zero_and_the_count_is_restored() {
        let doc: Doc = serde_json::from_str(r#"{"items":[{"name":"x"}]}"#).unwrap();
        assert_eq!(doc.items[0].line, 0);
        let bad: serde_json::Result<Doc> = from_reader("{\"items\":\n[".as_bytes());
        assert!(bad.is_err());
        assert_eq!(NEWLINES.with(|c| c.get()), None);
    }
}
