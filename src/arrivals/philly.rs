//! The Microsoft Philly trace in JSON: the full `cluster_job_log` and the shipped subset.
//!
//! The file is one JSON array, read element by element from a buffered stream (the full log is
//! about 1 GB; memory stays at one record). Per record:
//!
//! * id: `jobid` (full log) or `id` (subset);
//! * submission: `submitted_time`, `"YYYY-MM-DD HH:MM:SS"` (UTC); `None`, `null` or missing: the
//!   job is skipped and counted under `no submitted_time`;
//! * GPUs: `num_gpus` (subset), else the number of `gpus` over the first attempt's `detail`
//!   entries (full log); unknown for a job with no attempts;
//! * runtime: `runtime` in minutes (subset), else the first attempt's start to the last attempt's
//!   end, when both are recorded.
//!
//! Other fields (`status`, `vc`, `user`, `ip`) are ignored.

use std::cell::Cell;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;

use super::{Arrival, ArrivalSource, BadRecords, Skipped, parse_timestamp, record_error};
use crate::error::{Error, Result};

/// A Philly JSON trace (full `cluster_job_log` or the subset).
pub struct PhillyJson {
    path: PathBuf,
    bad: BadRecords,
}

impl PhillyJson {
    /// The trace at `path`; malformed records are handled as `bad` says.
    pub fn new(path: &Path, bad: BadRecords) -> PhillyJson {
        PhillyJson {
            path: path.to_path_buf(),
            bad,
        }
    }
}

/// The arrival a record describes, `Ok(None)` when it has no submission time, or what is wrong.
fn arrival(record: &Value) -> std::result::Result<Option<Arrival>, String> {
    let object = record
        .as_object()
        .ok_or_else(|| "expected a job object".to_string())?;
    let text = |key: &str| -> std::result::Result<Option<&str>, String> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!("`{key}`: expected a string, got {other}")),
        }
    };
    let job_id = text("jobid")?
        .or(text("id")?)
        .ok_or_else(|| "no `jobid` (or `id`)".to_string())?
        .to_string();
    let in_job = |m: String| format!("job {job_id}: {m}");
    let time = |t: Option<&str>, key: &str| {
        t.map_or(Ok(None), parse_timestamp)
            .map_err(|m| in_job(format!("`{key}`: {m}")))
    };
    let Some(submitted) = time(text("submitted_time").map_err(&in_job)?, "submitted_time")? else {
        return Ok(None);
    };
    let attempts: &[Value] = match object.get("attempts") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(in_job("`attempts`: expected an array".into())),
    };
    let mut first_start = None;
    let mut last_end = None;
    for (i, attempt) in attempts.iter().enumerate() {
        let field = |key: &str| match attempt.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => time(Some(s), &format!("attempts[{i}].{key}")),
            Some(_) => Err(in_job(format!("`attempts[{i}].{key}`: expected a string"))),
        };
        let (start, end) = (field("start_time")?, field("end_time")?);
        if i == 0 {
            first_start = start;
        }
        if i + 1 == attempts.len() {
            last_end = end;
        }
    }
    let gpus = match object.get("num_gpus") {
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|g| u32::try_from(g).ok())
                .filter(|&g| g >= 1)
                .ok_or_else(|| {
                    in_job(format!("`num_gpus`: expected a whole number >= 1, got {n}"))
                })?,
        ),
        Some(Value::Null) | None => attempts.first().and_then(|a| {
            let detail = a.get("detail")?.as_array()?;
            let count: usize = detail
                .iter()
                .filter_map(|d| d.get("gpus")?.as_array().map(Vec::len))
                .sum();
            u32::try_from(count).ok().filter(|&c| c > 0)
        }),
        Some(other) => {
            return Err(in_job(format!(
                "`num_gpus`: expected a number, got {other}"
            )));
        }
    };
    let runtime_s = match object.get("runtime") {
        Some(Value::Number(n)) => {
            let minutes = n.as_f64().unwrap_or(f64::NAN);
            if !(minutes.is_finite() && minutes >= 0.0) {
                return Err(in_job(format!("`runtime`: expected minutes >= 0, got {n}")));
            }
            Some(minutes * 60.0)
        }
        _ => match (first_start, last_end) {
            (Some(a), Some(b)) if b >= a => Some((b - a) as f64),
            _ => None,
        },
    };
    Ok(Some(Arrival {
        gpus,
        runtime_s,
        ..Arrival::at(job_id, submitted as f64)
    }))
}

/// A reader that counts the newlines it has passed, so a record's errors can name the line where
/// it ends (the JSON parser reads byte by byte and stops at the record's closing brace).
struct LineCounting<R> {
    inner: R,
    newlines: Rc<Cell<u64>>,
}

impl<R: Read> Read for LineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let lines = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        self.newlines.set(self.newlines.get() + lines);
        Ok(n)
    }
}

/// Streams the elements of the top-level array to a callback.
struct Elements<'a> {
    each: &'a mut dyn FnMut(Value) -> std::result::Result<(), String>,
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of jobs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Value>()? {
            (self.each)(record).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl ArrivalSource for PhillyJson {
    fn describe(&self) -> String {
        format!("philly-json {}", self.path.display())
    }

    fn for_each(&mut self, each: &mut dyn FnMut(Arrival) -> Result<()>) -> Result<Skipped> {
        let file = std::fs::File::open(&self.path).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })?;
        let mut skipped = Skipped::new();
        let mut stopped: Option<Error> = None;
        let bad = self.bad;
        let newlines = Rc::new(Cell::new(0));
        let line = Rc::clone(&newlines);
        let path = self.path.clone();
        let mut on_record = |record: Value| -> std::result::Result<(), String> {
            let ends_on = line.get() + 1;
            match arrival(&record) {
                Ok(Some(a)) => each(a).map_err(|e| {
                    let message = e.to_string();
                    stopped = Some(e);
                    message
                }),
                Ok(None) => {
                    *skipped.entry("no submitted_time".into()).or_default() += 1;
                    Ok(())
                }
                Err(_) if bad == BadRecords::Skip => {
                    *skipped.entry("malformed".into()).or_default() += 1;
                    Ok(())
                }
                Err(message) => {
                    let e = record_error(
                        &path,
                        ends_on,
                        format!("{message} (the record ending on this line)"),
                    );
                    stopped = Some(e);
                    Err(message)
                }
            }
        };
        let reader = LineCounting {
            inner: BufReader::new(file),
            newlines,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let parsed = Elements {
            each: &mut on_record,
        }
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
        if let Some(e) = stopped {
            return Err(e);
        }
        parsed.map_err(|e| {
            // serde_json appends " at line L column C"; name the place as file:line instead.
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_string();
            record_error(&self.path, e.line() as u64, message)
        })?;
        Ok(skipped)
    }
}
