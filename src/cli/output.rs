//! Output formats shared by the subcommands, and atomic file writes.
//!
//! * `table`: one `key  value` line per field, nested keys dotted, numbers rounded for reading.
//! * `json`: the full record, pretty-printed; floats in shortest round-trip form.
//! * `csv`: a header line of dotted keys and one line of values at full precision.
//!
//! All three are pure functions of the record, so equal records give byte-identical output.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned key/value lines for reading.
    Table,
    /// Pretty-printed JSON.
    Json,
    /// A CSV header and one row.
    Csv,
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source,
    }
}

impl Format {
    /// Writes `record` to `out` in this format.
    pub fn write<W: Write, T: Serialize>(self, out: &mut W, record: &T) -> Result<()> {
        let value = serde_json::to_value(record).map_err(|e| Error::Internal(e.to_string()))?;
        let text = match self {
            Format::Json => {
                let mut s = serde_json::to_string_pretty(&value)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                s.push('\n');
                s
            }
            Format::Csv => csv_row(&flatten(&value))?,
            Format::Table => table(&flatten(&value)),
        };
        out.write_all(text.as_bytes()).map_err(stdout_error)?;
        out.flush().map_err(stdout_error)
    }
}

/// Flattens nested objects into `(dotted.key, value)` pairs in field order.
fn flatten(value: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => out.push((prefix.to_string(), other.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn csv_row(fields: &[(String, Value)]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| Error::Internal(e.to_string());
    writer
        .write_record(fields.iter().map(|(k, _)| k.as_str()))
        .map_err(internal)?;
    writer
        .write_record(fields.iter().map(|(_, v)| plain(v)))
        .map_err(internal)?;
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(e.to_string()))
}

/// A number for reading: six decimals without trailing zeros, or three significant digits in
/// scientific notation when smaller than 0.001.
fn readable(value: &Value) -> String {
    match value {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if x != 0.0 && x.abs() < 1e-3 {
                format!("{x:.3e}")
            } else {
                let s = format!("{x:.6}");
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            }
        }
        other => plain(other),
    }
}

fn table(fields: &[(String, Value)]) -> String {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    fields
        .iter()
        .map(|(k, v)| format!("{k:<width$}  {}\n", readable(v)))
        .collect()
}

/// Writes a file whole or not at all: into a temporary file beside it, then renamed over it.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .ok_or_else(|| io_error(std::io::Error::other("not a file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = std::fs::File::create(&tmp).and_then(|file| {
        let mut writer = std::io::BufWriter::new(file);
        write(&mut writer)?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        drop(writer);
        std::fs::rename(&tmp, path)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner {
        a: f64,
        b: &'static str,
    }

    #[derive(Serialize)]
    struct Record {
        time_s: f64,
        n: u32,
        inner: Inner,
    }

    fn record() -> Record {
        Record {
            time_s: 107.985_355_832_453_04,
            n: 8,
            inner: Inner {
                a: 0.000_123_4,
                b: "x,y",
            },
        }
    }

    fn render(format: Format) -> String {
        let mut out = Vec::new();
        format.write(&mut out, &record()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_flattens_and_quotes() {
        assert_eq!(
            render(Format::Csv),
            "time_s,n,inner.a,inner.b\n107.98535583245304,8,0.0001234,\"x,y\"\n"
        );
    }

    #[test]
    fn table_rounds_for_reading() {
        assert_eq!(
            render(Format::Table),
            "time_s   107.985356\nn        8\ninner.a  1.234e-4\ninner.b  x,y\n"
        );
    }

    #[test]
    fn json_keeps_full_precision() {
        let json = render(Format::Json);
        assert!(json.contains("\"time_s\": 107.98535583245304"), "{json}");
        assert!(json.contains("\"a\": 0.0001234"), "{json}");
    }

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = std::env::temp_dir().join(format!("lambdasim-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.csv");
        write_atomically(&path, |f| f.write_all(b"ok\n")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "ok\n");
        let failed = write_atomically(&dir.join("bad.csv"), |_| Err(std::io::Error::other("boom")));
        assert!(failed.is_err());
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("out.csv")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
