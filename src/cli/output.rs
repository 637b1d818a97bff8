//! Writing what a command produces: JSON documents to a file or standard output, text to a
//! standard stream. Write errors become [`CliError::Output`] (a broken pipe among them, which
//! `main` ends quietly).

use std::fs::File;
use std::io::{self, BufWriter, Write};

use super::config::{Dest, Stream};
use super::error::CliError;

/// Writes `value` as pretty JSON and a newline to `dest`.
pub fn write_json(dest: &Dest, value: &impl serde::Serialize) -> Result<(), CliError> {
    let out_err = |source| CliError::Output {
        what: match dest {
            Dest::Stdout => "the report to standard output".into(),
            Dest::File(p) => format!("the report to {}", p.display()),
        },
        source,
    };
    let mut w: Box<dyn Write> = match dest {
        Dest::Stdout => Box::new(BufWriter::new(io::stdout().lock())),
        Dest::File(p) => Box::new(BufWriter::new(File::create(p).map_err(out_err)?)),
    };
    // An I/O error keeps its kind through serde_json (a broken pipe must stay one).
    serde_json::to_writer_pretty(&mut w, value).map_err(|e| out_err(io::Error::from(e)))?;
    w.write_all(b"\n").map_err(out_err)?;
    w.flush().map_err(out_err)
}

/// Writes the report as one self-contained HTML page to the file `path`.
pub fn write_html(
    path: &std::path::Path,
    report: &vmkflow::report::Report,
) -> Result<(), CliError> {
    let page = vmkflow::report::html::render(report);
    std::fs::write(path, page).map_err(|source| CliError::Output {
        what: format!("the HTML report to {}", path.display()),
        source,
    })
}

/// Writes the report's Parquet tables under `dir`, in the partition `id`.
pub fn write_parquet(
    dir: &std::path::Path,
    id: &str,
    report: &vmkflow::report::Report,
) -> Result<(), CliError> {
    use vmkflow::report::parquet;
    let empty = parquet::Extras::default();
    let extras = report.parquet.as_ref().unwrap_or(&empty);
    parquet::write_dataset(dir, id, report, extras)
        .map(|_| ())
        .map_err(|e| CliError::Output {
            what: format!("the Parquet tables to {}", e.path.display()),
            source: e.source,
        })
}

/// Writes the summary `text` to `stream`.
pub fn print_text(stream: Stream, text: &str) -> Result<(), CliError> {
    let r = match stream {
        Stream::Stdout => {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
        Stream::Stderr => io::stderr().lock().write_all(text.as_bytes()),
    };
    r.map_err(|source| CliError::Output {
        what: "the summary".into(),
        source,
    })
}
