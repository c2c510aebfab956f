//! Named choices: fieldless model enums (CPU model, network implementation, cost model, trace
//! sampling) written by name on the command line, in sweep files and in outputs.
//!
//! [`named_enum!`](crate::named_enum) gives such an enum `NAMES`, `name()`, `FromStr` (an error
//! naming the parameter and the allowed names), `Display`, and serde as that name, so the library
//! parses them without the command-line parser.

/// Implements `NAMES`, `name()`, `FromStr`, `Display`, `Serialize` and `Deserialize` for a
/// fieldless enum, given the parameter it is the value of and each variant's name.
#[macro_export]
macro_rules! named_enum {
    ($ty:ident, $parameter:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value's name, as written on the command line, in files and in outputs.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// This value's name.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::error::Error;

            fn from_str(text: &str) -> $crate::error::Result<Self> {
                match text {
                    $($name => Ok($ty::$variant),)+
                    other => Err($crate::error::Error::invalid(
                        $parameter,
                        format!("`{other}` is not one of {}", Self::NAMES.join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(|e: $crate::error::Error| {
                    <D::Error as serde::de::Error>::custom(e.to_string())
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::platform::cpu::CpuMode;

    #[test]
    fn names_round_trip_and_errors_name_the_parameter() {
        for name in CpuMode::NAMES {
            let mode: CpuMode = name.parse().unwrap();
            assert_eq!(mode.to_string(), *name);
            assert_eq!(serde_json::to_string(&mode).unwrap(), format!("\"{name}\""));
        }
        let e = "gpu".parse::<CpuMode>().unwrap_err();
        assert_eq!(e.to_string(), "cpu: `gpu` is not one of fluid, cfs");
        assert_eq!(e.exit_code(), 2);
        let parsed: CpuMode = serde_json::from_str("\"fluid\"").unwrap();
        assert_eq!(parsed, CpuMode::Fluid);
        assert!(serde_json::from_str::<CpuMode>("\"x\"").is_err());
    }
}
