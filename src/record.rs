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

/// Appends the CSV field of every leaf of `record` to `out`, in the order [`flat`] gives them and
/// formatted as [`plain`] formats them (strings bare, `None` and non-finite numbers empty, numbers
/// in JSON's shortest form), without building a JSON tree: the fast path for rows written in bulk.
pub fn fields<T: Serialize>(record: &T, out: &mut Vec<String>) -> Result<()> {
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
    out: &'a mut Vec<String>,
}

/// The same writer for the children of a struct, map or tuple.
struct Children<'a> {
    out: &'a mut Vec<String>,
}

type FieldResult = std::result::Result<(), FieldError>;

impl FieldWriter<'_> {
    fn push(self, text: String) -> FieldResult {
        self.out.push(text);
        Ok(())
    }

    /// A float as serde_json writes it (the same `zmij` shortest form); non-finite floats are
    /// `null` there, an empty field here, as [`plain`] gives.
    fn float(self, value: f64) -> FieldResult {
        let text = if value.is_finite() {
            zmij::Buffer::new().format_finite(value).to_string()
        } else {
            String::new()
        };
        self.push(text)
    }
}

macro_rules! integers {
    ($($method:ident: $ty:ty),+) => {
        $(fn $method(self, v: $ty) -> FieldResult {
            self.push(v.to_string())
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
        let text = if v.is_finite() {
            zmij::Buffer::new().format_finite(v).to_string()
        } else {
            String::new()
        };
        self.push(text)
    }
    fn serialize_f64(self, v: f64) -> FieldResult {
        self.float(v)
    }

    fn serialize_bool(self, v: bool) -> FieldResult {
        self.push(v.to_string())
    }
    fn serialize_char(self, v: char) -> FieldResult {
        self.push(v.to_string())
    }
    fn serialize_str(self, v: &str) -> FieldResult {
        self.push(v.to_string())
    }
    fn serialize_bytes(self, _: &[u8]) -> FieldResult {
        Err(FieldError("bytes have no CSV field".into()))
    }
    fn serialize_none(self) -> FieldResult {
        self.push(String::new())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> FieldResult {
        v.serialize(self)
    }
    fn serialize_unit(self) -> FieldResult {
        self.push(String::new())
    }
    fn serialize_unit_struct(self, _: &'static str) -> FieldResult {
        self.push(String::new())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> FieldResult {
        self.push(variant.to_string())
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

/// One CSV line (with its newline) of `fields`, quoted where needed.
pub fn csv_line<S: AsRef<[u8]>>(fields: &[S]) -> String {
    // A small staging buffer: the default (8 KiB, zeroed on creation) costs more to set up than
    // a row costs to write, and one is made per row.
    let mut writer = csv::WriterBuilder::new()
        .buffer_capacity(256)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(fields);
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
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
        let mut fast = Vec::new();
        fields(&summary, &mut fast).unwrap();
        let slow: Vec<String> = flatten(&cases[0]).iter().map(|(_, v)| plain(v)).collect();
        assert_eq!(fast, slow);
        let mut fast = Vec::new();
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
        assert_eq!(fast, slow);
        assert_eq!(fast, ["", "3.0", "7", "a\"b"]);
    }
}
