//! Records as flat rows: any serialisable record flattened to `(dotted.key, value)` pairs in field
//! order, and CSV lines of them. Shared by the command line's output formats and the sweep's CSV
//! sink, so a quantity has the same column name everywhere.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Flattens nested objects into `(dotted.key, value)` pairs in field order.
pub fn flatten(value: &Value) -> Vec<(String, Value)> {
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

/// `record` flattened (see [`flatten`]).
pub fn flat<T: Serialize>(record: &T) -> Result<Vec<(String, Value)>> {
    let value = serde_json::to_value(record).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(flatten(&value))
}

/// A value as a CSV field: strings bare, `null` empty, numbers and booleans as JSON writes them
/// (shortest round-trip form).
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A row's fields as one text and where each field ends in it: a row of many fields without an
/// allocation per field (the sweep writes one row per point).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    text: String,
    ends: Vec<usize>,
}

impl Fields {
    /// Empty, with room for `fields` fields of `bytes` bytes in all.
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Fields {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(fields),
        }
    }

    /// Appends a field.
    pub fn push(&mut self, field: &str) {
        self.text.push_str(field);
        self.ends.push(self.text.len());
    }

    /// Appends a field written by `Display` (a number, say).
    pub fn push_display(&mut self, field: impl std::fmt::Display) {
        use std::fmt::Write;
        // Writing to a `String` cannot fail.
        let _ = write!(self.text, "{field}");
        self.ends.push(self.text.len());
    }

    /// Appends an integer field, in decimal as `Display` writes it (without the formatting
    /// machinery: a sweep row holds a dozen integers).
    pub fn push_integer(&mut self, field: impl itoa::Integer) {
        self.push(itoa::Buffer::new().format(field));
    }

    /// Appends a copy of field `i`.
    pub fn push_copy(&mut self, i: usize) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.extend_from_within(start..self.ends[i]);
        self.ends.push(self.text.len());
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let field = &self.text[start..end];
            start = end;
            field
        })
    }
}

/// Appends the CSV field of every leaf of `record` to `out`, in the order [`flat`] gives them and
/// formatted as [`plain`] formats them (strings bare, `None` and non-finite numbers empty, numbers
/// in JSON's shortest form), without building a JSON tree: the fast path for rows written in bulk.
pub fn fields<T: Serialize>(record: &T, out: &mut Fields) -> Result<()> {
    record
        .serialize(FieldWriter { out })
        .map_err(|e| Error::Internal(format!("record to CSV fields: {e}")))
}

/// The error of [`FieldWriter`] (records are plain data; it only reports unsupported shapes).
#[derive(Debug)]
struct FieldError(String);

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FieldError {}

impl serde::ser::Error for FieldError {
    fn custom<M: std::fmt::Display>(message: M) -> Self {
        FieldError(message.to_string())
    }
}

/// A serde serializer that pushes one CSV field per leaf value.
struct FieldWriter<'a> {
    out: &'a mut Fields,
}

/// The same writer for the children of a struct, map or tuple.
struct Children<'a> {
    out: &'a mut Fields,
}

type FieldResult = std::result::Result<(), FieldError>;

impl FieldWriter<'_> {
    fn push(self, text: &str) -> FieldResult {
        self.out.push(text);
        Ok(())
    }

    fn push_display(self, value: impl std::fmt::Display) -> FieldResult {
        self.out.push_display(value);
        Ok(())
    }

    /// A float as serde_json writes it (the same `zmij` shortest form); non-finite floats are
    /// `null` there, an empty field here, as [`plain`] gives.
    fn float<F: zmij::Float>(self, value: F, finite: bool) -> FieldResult {
        let mut buffer = zmij::Buffer::new();
        self.push(if finite {
            buffer.format_finite(value)
        } else {
            ""
        })
    }
}

macro_rules! integers {
    ($($method:ident: $ty:ty),+) => {
        $(fn $method(self, v: $ty) -> FieldResult {
            self.out.push_integer(v);
            Ok(())
        })+
    };
}

impl<'a> serde::Serializer for FieldWriter<'a> {
    type Ok = ();
    type Error = FieldError;
    type SerializeSeq = serde::ser::Impossible<(), FieldError>;
    type SerializeTuple = Children<'a>;
    type SerializeTupleStruct = Children<'a>;
    type SerializeTupleVariant = serde::ser::Impossible<(), FieldError>;
    type SerializeMap = Children<'a>;
    type SerializeStruct = Children<'a>;
    type SerializeStructVariant = serde::ser::Impossible<(), FieldError>;

    integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
              serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_f32(self, v: f32) -> FieldResult {
        self.float(v, v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> FieldResult {
        self.float(v, v.is_finite())
    }

    fn serialize_bool(self, v: bool) -> FieldResult {
        self.push(if v { "true" } else { "false" })
    }
    fn serialize_char(self, v: char) -> FieldResult {
        self.push_display(v)
    }
    fn serialize_str(self, v: &str) -> FieldResult {
        self.push(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> FieldResult {
        Err(FieldError("bytes have no CSV field".into()))
    }
    fn serialize_none(self) -> FieldResult {
        self.push("")
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> FieldResult {
        v.serialize(self)
    }
    fn serialize_unit(self) -> FieldResult {
        self.push("")
    }
    fn serialize_unit_struct(self, _: &'static str) -> FieldResult {
        self.push("")
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> FieldResult {
        self.push(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> FieldResult {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> FieldResult {
        Err(FieldError(
            "enum variants with data have no CSV fields".into(),
        ))
    }
    fn serialize_seq(
        self,
        _: Option<usize>,
    ) -> std::result::Result<Self::SerializeSeq, FieldError> {
        Err(FieldError("sequences have no CSV fields".into()))
    }
    fn serialize_tuple(self, _: usize) -> std::result::Result<Children<'a>, FieldError> {
        Ok(Children { out: self.out })
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Children<'a>, FieldError> {
        Ok(Children { out: self.out })
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, FieldError> {
        Err(FieldError(
            "enum variants with data have no CSV fields".into(),
        ))
    }
    fn serialize_map(self, _: Option<usize>) -> std::result::Result<Children<'a>, FieldError> {
        Ok(Children { out: self.out })
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Children<'a>, FieldError> {
        Ok(Children { out: self.out })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, FieldError> {
        Err(FieldError(
            "enum variants with data have no CSV fields".into(),
        ))
    }
}

impl Children<'_> {
    fn child<T: ?Sized + Serialize>(&mut self, value: &T) -> FieldResult {
        value.serialize(FieldWriter { out: self.out })
    }
}

impl serde::ser::SerializeStruct for Children<'_> {
    type Ok = ();
    type Error = FieldError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, v: &T) -> FieldResult {
        self.child(v)
    }
    fn end(self) -> FieldResult {
        Ok(())
    }
}

impl serde::ser::SerializeMap for Children<'_> {
    type Ok = ();
    type Error = FieldError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, _: &T) -> FieldResult {
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> FieldResult {
        self.child(v)
    }
    fn end(self) -> FieldResult {
        Ok(())
    }
}

impl serde::ser::SerializeTuple for Children<'_> {
    type Ok = ();
    type Error = FieldError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> FieldResult {
        self.child(v)
    }
    fn end(self) -> FieldResult {
        Ok(())
    }
}

impl serde::ser::SerializeTupleStruct for Children<'_> {
    type Ok = ();
    type Error = FieldError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> FieldResult {
        self.child(v)
    }
    fn end(self) -> FieldResult {
        Ok(())
    }
}

/// One CSV line (with its newline) of `fields`, quoted where needed: byte for byte what the `csv`
/// crate's default writer writes (tested), without setting one up per line. A field holding a
/// comma, a quote, `\r` or `\n` is quoted, its quotes doubled; a line that would be empty (no
/// fields, or one empty field) is `""`.
pub fn csv_line<S: AsRef<str>>(fields: impl IntoIterator<Item = S>) -> String {
    let mut line = String::new();
    push_csv_line(&mut line, fields);
    line
}

/// Appends [`csv_line`]`(fields)` to `out`: rows written in bulk go straight into the buffer
/// that is written out, without a `String` per row.
pub fn push_csv_line<S: AsRef<str>>(out: &mut String, fields: impl IntoIterator<Item = S>) {
    let from = out.len();
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = field.as_ref();
        if field
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        {
            out.push('"');
            for (j, part) in field.split('"').enumerate() {
                if j > 0 {
                    out.push_str("\"\"");
                }
                out.push_str(part);
            }
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    if out.len() == from {
        out.push_str("\"\"");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner {
        a: f64,
        b: Option<u32>,
    }

    #[derive(Serialize)]
    struct Record {
        time_s: f64,
        inner: Inner,
        name: &'static str,
    }

    #[test]
    fn flattens_in_field_order_and_quotes() {
        let r = Record {
            time_s: 1.5,
            inner: Inner { a: 1e-7, b: None },
            name: "x,y",
        };
        let fields = flat(&r).unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["time_s", "inner.a", "inner.b", "name"]);
        let values: Vec<String> = fields.iter().map(|(_, v)| plain(v)).collect();
        assert_eq!(csv_line(&values), "1.5,1e-7,,\"x,y\"\n");
    }

    #[test]
    fn rows_longer_than_the_staging_buffer_come_out_whole() {
        // Many fields and one long quoted field, well past the writer's 256-byte buffer.
        let long = format!("a \"quoted\", {}", "x".repeat(700));
        let mut fields: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        fields.push(long.clone());
        let expected = format!(
            "{},\"{}\"\n",
            (0..200)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(","),
            long.replace('"', "\"\"")
        );
        assert_eq!(csv_line(&fields), expected);
    }

    #[test]
    fn the_fast_field_writer_agrees_with_flattening() {
        // Every shape a summary or a settings record has: nested structs, flattened structs,
        // options, NaN, enums, integers and floats of every size.
        let summary = crate::evaluate::SummaryBuilder::default().finish();
        let cases: Vec<serde_json::Value> = vec![
            serde_json::to_value(&summary).unwrap(),
            serde_json::to_value(Record {
                time_s: f64::NAN,
                inner: Inner { a: 3.0, b: Some(7) },
                name: "a\"b",
            })
            .unwrap(),
        ];
        let mut fast = Fields::default();
        fields(&summary, &mut fast).unwrap();
        let slow: Vec<String> = flatten(&cases[0]).iter().map(|(_, v)| plain(v)).collect();
        assert_eq!(fast.iter().collect::<Vec<_>>(), slow);
        let mut fast = Fields::default();
        fields(
            &Record {
                time_s: f64::NAN,
                inner: Inner { a: 3.0, b: Some(7) },
                name: "a\"b",
            },
            &mut fast,
        )
        .unwrap();
        let slow: Vec<String> = flatten(&cases[1]).iter().map(|(_, v)| plain(v)).collect();
        assert_eq!(fast.iter().collect::<Vec<_>>(), slow);
        assert_eq!(fast.iter().collect::<Vec<_>>(), ["", "3.0", "7", "a\"b"]);
        assert_eq!(csv_line(fast.iter()), ",3.0,7,\"a\"\"b\"\n");
    }

    /// The line the `csv` crate's default writer writes.
    fn csv_crate_line(fields: &[String]) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(fields).unwrap();
        String::from_utf8(writer.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn lines_are_what_the_csv_crate_writes() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let alphabet = [
            'a', '1', '.', ' ', ',', '"', '\r', '\n', 'é', '#', '\t', '\'',
        ];
        for case in 0..5_000 {
            let n = rng.random_range(0..6);
            let fields: Vec<String> = (0..n)
                .map(|_| {
                    let len = rng.random_range(0..5);
                    (0..len)
                        .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                        .collect()
                })
                .collect();
            assert_eq!(
                csv_line(&fields),
                csv_crate_line(&fields),
                "case {case}: {fields:?}"
            );
            // Appended to what a buffer holds already, the same line follows it.
            let mut out = String::from("a,b\n");
            push_csv_line(&mut out, &fields);
            assert_eq!(
                out,
                format!("a,b\n{}", csv_crate_line(&fields)),
                "case {case}"
            );
        }
        for fields in [
            vec![],
            vec![String::new()],
            vec![String::new(), String::new()],
        ] {
            assert_eq!(csv_line(&fields), csv_crate_line(&fields), "{fields:?}");
        }
    }

    #[test]
    fn integer_fields_are_their_display_form() {
        let mut fast = Fields::default();
        let mut display = Fields::default();
        for v in [0, 1, -1, 9, 10, 99, 100, 12_345, i64::MIN, i64::MAX] {
            fast.push_integer(v);
            display.push_display(v);
        }
        for v in [u64::MAX, 1 << 63, 10_000_000_000_000_000_000] {
            fast.push_integer(v);
            display.push_display(v);
        }
        fast.push_integer(u32::MAX);
        display.push_display(u32::MAX);
        assert_eq!(fast, display);
        assert_eq!(fast.iter().nth(8), Some("-9223372036854775808"));
    }

    #[test]
    fn fields_keep_their_bounds() {
        let mut f = Fields::default();
        assert!(f.is_empty());
        f.push("");
        f.push_display(42);
        f.push("x,y");
        f.push_copy(1);
        f.push_copy(0);
        f.push_copy(2);
        assert_eq!(f.len(), 6);
        assert_eq!(
            f.iter().collect::<Vec<_>>(),
            ["", "42", "x,y", "42", "", "x,y"]
        );
        assert_eq!(csv_line(f.iter()), ",42,\"x,y\",42,,\"x,y\"\n");
    }
}
