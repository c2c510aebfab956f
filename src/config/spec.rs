//! Named models with parameters, written `name` or `name{key=value, key=value}`.
//!
//! Used wherever a user picks a model at run time by name (jitter distributions now; strategies
//! later), so that calibration never needs a recompile. Parsing never panics; every error names the
//! parameter, the key and what is allowed.

use crate::error::{Error, Result};

/// A parsed `name{key=value,...}` specification.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// The model's name.
    pub name: String,
    params: Vec<(String, String)>,
    parameter: String,
}

impl Spec {
    /// Parses `text` given for `parameter` (named in error messages).
    pub fn parse(parameter: &str, text: &str) -> Result<Spec> {
        let err = |message: String| Error::invalid(parameter, message);
        let text = text.trim();
        let (name, params_text) = match text.find('{') {
            None => (text, None),
            Some(open) => {
                let Some(body) = text[open + 1..].strip_suffix('}') else {
                    return Err(err(format!(
                        "`{text}`: expected `name` or `name{{key=value,...}}` with a closing `}}`"
                    )));
                };
                (&text[..open], Some(body))
            }
        };
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(format!(
                "`{text}`: expected a model name of letters, digits, `-` or `_`"
            )));
        }
        let mut params = Vec::new();
        for item in params_text.unwrap_or("").split(',').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let Some((key, value)) = item.split_once('=') else {
                return Err(err(format!("`{item}` in `{text}`: expected key=value")));
            };
            let (key, value) = (key.trim(), value.trim());
            if params.iter().any(|(k, _)| k == key) {
                return Err(err(format!("`{key}` is given twice in `{text}`")));
            }
            params.push((key.to_string(), value.to_string()));
        }
        Ok(Spec {
            name: name.to_string(),
            params,
            parameter: parameter.to_string(),
        })
    }

    /// Fails unless every given key is in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<()> {
        match self
            .params
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            None => Ok(()),
            Some((k, _)) => Err(Error::invalid(
                &self.parameter,
                format!(
                    "`{}` has no parameter `{k}` (allowed: {})",
                    self.name,
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            )),
        }
    }

    /// The value of `key` as a finite number, or `default` when absent.
    pub fn f64_or(&self, key: &str, default: f64) -> Result<f64> {
        let Some((_, raw)) = self.params.iter().find(|(k, _)| k == key) else {
            return Ok(default);
        };
        match raw.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(Error::invalid(
                &self.parameter,
                format!(
                    "`{}{{{key}=...}}`: expected a finite number, got `{raw}`",
                    self.name
                ),
            )),
        }
    }
}

impl Spec {
    /// The raw text of `key`, if given.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as `true`/`false` (or `1`/`0`), or `default` when absent.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.text(key) {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(raw) => Err(Error::invalid(
                &self.parameter,
                format!(
                    "`{}{{{key}=...}}`: expected true or false, got `{raw}`",
                    self.name
                ),
            )),
        }
    }

    /// The value of `key` as a whole number in `min..=max`, or `default` when absent.
    pub fn u32_or(&self, key: &str, default: u32, min: u32, max: u32) -> Result<u32> {
        let Some(raw) = self.text(key) else {
            return Ok(default);
        };
        match raw.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(Error::invalid(
                &self.parameter,
                format!(
                    "`{}{{{key}=...}}`: expected a whole number in {min}..{max}, got `{raw}`",
                    self.name
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bare_names_and_parameters() {
        let s = Spec::parse("jitter", "none").unwrap();
        assert_eq!(s.name, "none");
        let s = Spec::parse("jitter", " lognormal{ cv = 0.25 , x=1} ").unwrap();
        assert_eq!(s.name, "lognormal");
        assert_eq!(s.f64_or("cv", 0.0).unwrap(), 0.25);
        assert_eq!(s.f64_or("absent", 7.0).unwrap(), 7.0);
        assert!(s.only(&["cv"]).is_err());
        assert!(s.only(&["cv", "x"]).is_ok());
    }

    #[test]
    fn typed_parameters() {
        let s = Spec::parse("strategies", "x{flag=true,n=7,off=0}").unwrap();
        assert!(s.bool_or("flag", false).unwrap());
        assert!(!s.bool_or("off", true).unwrap());
        assert!(s.bool_or("absent", true).unwrap());
        assert_eq!(s.u32_or("n", 1, 1, 10).unwrap(), 7);
        assert!(s.u32_or("n", 1, 1, 5).is_err());
        assert!(s.u32_or("flag", 1, 1, 5).is_err());
        assert!(
            Spec::parse("-s", "x{flag=maybe}")
                .unwrap()
                .bool_or("flag", false)
                .is_err()
        );
    }

    #[test]
    fn rejects_malformed_specs() {
        for bad in [
            "",
            "{cv=1}",
            "lognormal{cv=1",
            "lognormal{cv}",
            "a b",
            "x{k=1,k=2}",
        ] {
            let e = Spec::parse("jitter", bad).unwrap_err();
            assert!(e.to_string().starts_with("jitter: "), "{e}");
        }
        let s = Spec::parse("jitter", "lognormal{cv=NaN}").unwrap();
        assert!(s.f64_or("cv", 0.1).is_err());
    }
}
