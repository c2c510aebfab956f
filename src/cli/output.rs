//! Output formats shared by the subcommands, and atomic file writes.
//!
//! * `table`: one `key  value` line per field, nested keys dotted, numbers rounded for reading.
//! * `json`: the full record, pretty-printed; floats in shortest round-trip form.
//! * `csv`: a header line of dotted keys and one line of values at full precision.
//!
//! All three are pure functions of the record, so equal records give byte-identical output.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::record::{flatten, plain};

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

impl Format {
    /// As [`Format::write_rows`], but the table shows only `table_columns` (in their order);
    /// CSV and JSON show everything.
    pub fn write_rows_selected<W: Write, T: Serialize>(
        self,
        out: &mut W,
        records: &[T],
        table_columns: &[&str],
    ) -> Result<()> {
        if self != Format::Table {
            return self.write_rows(out, records);
        }
        let mut rows = Vec::with_capacity(records.len());
        for record in records {
            let fields = crate::record::flat(record)?;
            rows.push(
                table_columns
                    .iter()
                    .filter_map(|c| fields.iter().find(|(k, _)| k == c).cloned())
                    .collect::<Vec<_>>(),
            );
        }
        out.write_all(table_rows(&rows).as_bytes())
            .map_err(stdout_error)?;
        out.flush().map_err(stdout_error)
    }

    /// Writes several records of one type: a JSON array, a CSV header and one line per record, or
    /// an aligned table with a header line.
    pub fn write_rows<W: Write, T: Serialize>(self, out: &mut W, records: &[T]) -> Result<()> {
        let internal = |e: serde_json::Error| Error::Internal(e.to_string());
        let values: Vec<Value> = records
            .iter()
            .map(serde_json::to_value)
            .collect::<std::result::Result<_, _>>()
            .map_err(internal)?;
        let rows: Vec<Vec<(String, Value)>> = values.iter().map(flatten).collect();
        let text = match self {
            Format::Json => {
                let mut s = serde_json::to_string_pretty(&values).map_err(internal)?;
                s.push('\n');
                s
            }
            Format::Csv => csv_rows(&rows)?,
            Format::Table => table_rows(&rows),
        };
        out.write_all(text.as_bytes()).map_err(stdout_error)?;
        out.flush().map_err(stdout_error)
    }
}

/// Rows written as they come (CSV lines, or a JSON array one compact object per line), so that
/// millions of per-replica rows need no memory; the table format, which aligns columns, keeps
/// them until [`RowStream::finish`].
pub struct RowStream<'w, W: Write> {
    out: &'w mut W,
    format: Format,
    rows: u64,
    table: Vec<Vec<(String, Value)>>,
}

impl<'w, W: Write> RowStream<'w, W> {
    /// A stream of rows in `format` to `out`.
    pub fn new(out: &'w mut W, format: Format) -> Self {
        RowStream {
            out,
            format,
            rows: 0,
            table: Vec::new(),
        }
    }

    /// Writes one row.
    pub fn push<T: Serialize>(&mut self, record: &T) -> Result<()> {
        let internal = |e: serde_json::Error| Error::Internal(e.to_string());
        let value = serde_json::to_value(record).map_err(internal)?;
        let text = match self.format {
            Format::Table => {
                self.table.push(flatten(&value));
                return Ok(());
            }
            Format::Csv => {
                let fields = flatten(&value);
                let mut text = String::new();
                if self.rows == 0 {
                    let header: Vec<String> = fields.iter().map(|(k, _)| k.clone()).collect();
                    text.push_str(&crate::record::csv_line(&header));
                }
                let values: Vec<String> = fields.iter().map(|(_, v)| plain(v)).collect();
                text.push_str(&crate::record::csv_line(&values));
                text
            }
            Format::Json => {
                let row = serde_json::to_string(&value).map_err(internal)?;
                format!("{}{row}", if self.rows == 0 { "[\n  " } else { ",\n  " })
            }
        };
        self.rows += 1;
        self.out.write_all(text.as_bytes()).map_err(stdout_error)
    }

    /// Ends the output (closes the JSON array; writes the table).
    pub fn finish(self) -> Result<()> {
        let text = match self.format {
            Format::Table => table_rows(&self.table),
            Format::Json if self.rows == 0 => "[]\n".to_string(),
            Format::Json => "\n]\n".to_string(),
            Format::Csv => String::new(),
        };
        self.out.write_all(text.as_bytes()).map_err(stdout_error)?;
        self.out.flush().map_err(stdout_error)
    }
}

fn csv_row(fields: &[(String, Value)]) -> Result<String> {
    csv_rows(&[fields.to_vec()])
}

/// A CSV header (the first row's keys) and one line per row.
fn csv_rows(rows: &[Vec<(String, Value)>]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let internal = |e: csv::Error| Error::Internal(e.to_string());
    if let Some(first) = rows.first() {
        writer
            .write_record(first.iter().map(|(k, _)| k.as_str()))
            .map_err(internal)?;
    }
    for row in rows {
        writer
            .write_record(row.iter().map(|(_, v)| plain(v)))
            .map_err(internal)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(e.to_string()))
}

/// Columns aligned under a header line, numbers rounded for reading.
fn table_rows(rows: &[Vec<(String, Value)>]) -> String {
    let Some(first) = rows.first() else {
        return String::new();
    };
    let mut cells: Vec<Vec<String>> = vec![first.iter().map(|(k, _)| k.clone()).collect()];
    cells.extend(
        rows.iter()
            .map(|r| r.iter().map(|(_, v)| readable(v)).collect()),
    );
    let widths: Vec<usize> = (0..first.len())
        .map(|c| {
            cells
                .iter()
                .map(|r| r.get(c).map_or(0, String::len))
                .max()
                .unwrap_or(0)
        })
        .collect();
    cells
        .iter()
        .map(|r| {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(v, &w)| format!("{v:<w$}"))
                .collect();
            format!("{}\n", line.join("  ").trim_end())
        })
        .collect()
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
    fn several_rows_in_every_format() {
        let rows = [record(), record()];
        let mut csv = Vec::new();
        Format::Csv.write_rows(&mut csv, &rows).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.starts_with("time_s,n,inner.a,inner.b\n"));
        let mut table = Vec::new();
        Format::Table.write_rows(&mut table, &rows).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert_eq!(
            table.lines().next().unwrap(),
            "time_s      n  inner.a   inner.b"
        );
        assert_eq!(
            table.lines().nth(1).unwrap(),
            "107.985356  8  1.234e-4  x,y"
        );
        let mut json = Vec::new();
        Format::Json.write_rows(&mut json, &rows).unwrap();
        let parsed: Vec<serde_json::Value> = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed.len(), 2);
    }

    #[test]
    fn json_keeps_full_precision() {
        let json = render(Format::Json);
        assert!(json.contains("\"time_s\": 107.98535583245304"), "{json}");
        assert!(json.contains("\"a\": 0.0001234"), "{json}");
    }
}
