//! The tidy data behind a figure: named columns (units in the names), one row per plotted point.
//! Written as `data.csv` and read back by `figures --from-data`, so a figure is drawn from exactly
//! what its file holds.

use std::path::Path;

use crate::error::{Error, Result};

/// A number as serde_json writes it (shortest round-tripping digits); empty when not finite.
fn number_text(v: f64) -> String {
    if v.is_finite() {
        zmij::Buffer::new().format_finite(v).to_string()
    } else {
        String::new()
    }
}

/// One cell: a number or a label.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A number (written with the shortest round-tripping digits).
    Number(f64),
    /// A label.
    Text(String),
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Number(v)
    }
}

impl From<u32> for Cell {
    fn from(v: u32) -> Self {
        Cell::Number(f64::from(v))
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_string())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

/// A table of rows under named columns.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    /// Column names, with units (`memory_mb`, `time_mean_s`).
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with `columns`.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (as many cells as columns).
    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    fn index(&self, column: &str) -> Result<usize> {
        self.columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| {
                Error::invalid(
                    "figure data",
                    format!(
                        "no column `{column}` (columns: {})",
                        self.columns.join(", ")
                    ),
                )
            })
    }

    /// The numbers of `column`, in row order (NaN for labels and empty cells).
    pub fn numbers(&self, column: &str) -> Result<Vec<f64>> {
        let i = self.index(column)?;
        Ok(self
            .rows
            .iter()
            .map(|r| match &r[i] {
                Cell::Number(v) => *v,
                Cell::Text(t) => t.parse().unwrap_or(f64::NAN),
            })
            .collect())
    }

    /// The labels of `column`, in row order.
    pub fn texts(&self, column: &str) -> Result<Vec<String>> {
        let i = self.index(column)?;
        Ok(self
            .rows
            .iter()
            .map(|r| match &r[i] {
                Cell::Number(v) => number_text(*v),
                Cell::Text(t) => t.clone(),
            })
            .collect())
    }

    /// The table as CSV text (numbers with the shortest round-tripping digits, NaN as empty).
    pub fn to_csv(&self) -> String {
        let mut text = crate::record::csv_line(&self.columns);
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Number(v) => number_text(*v),
                    Cell::Text(t) => t.clone(),
                })
                .collect();
            text.push_str(&crate::record::csv_line(&cells));
        }
        text
    }

    /// Reads a table written by [`Table::to_csv`]: cells that parse as numbers are numbers, empty
    /// cells NaN.
    pub fn read_csv(path: &Path) -> Result<Table> {
        let mut reader = ::csv::Reader::from_path(path).map_err(|e| Error::Syntax {
            location: path.display().to_string(),
            message: e.to_string(),
        })?;
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| Error::Syntax {
                location: path.display().to_string(),
                message: e.to_string(),
            })?
            .iter()
            .map(String::from)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| Error::Syntax {
                location: format!(
                    "{}:{}",
                    path.display(),
                    e.position().map_or(0, |p| p.line())
                ),
                message: e.to_string(),
            })?;
            rows.push(
                record
                    .iter()
                    .map(|cell| {
                        if cell.is_empty() {
                            Cell::Number(f64::NAN)
                        } else {
                            cell.parse::<f64>()
                                .map_or_else(|_| Cell::Text(cell.to_string()), Cell::Number)
                        }
                    })
                    .collect(),
            );
        }
        Ok(Table { columns, rows })
    }
}
