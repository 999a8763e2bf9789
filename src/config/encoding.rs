//! The text encoding a mapping names: `auto`, `auto-latin`, or any WHATWG encoding label.
//!
//! ## Method
//! A name is matched ignoring ASCII case and surrounding whitespace. `auto` and `auto-latin` are
//! custlens' own guesses (see [`Encoding`]); any other name is looked up with
//! [`encoding_rs::Encoding::for_label`], which knows every label of the WHATWG Encoding Standard
//! (<https://encoding.spec.whatwg.org/#names-and-labels>): `utf-8`/`utf8`, `gbk`/`gb2312`/`gb18030`,
//! `big5`, `shift_jis`/`shift-jis`/`sjis`, `euc-jp`, `euc-kr`, `windows-1252`/`cp1252`/`latin1`,
//! `iso-8859-2` … `iso-8859-16`, `koi8-r`, `utf-16le`, `utf-16be`, and so on. As in browsers,
//! `iso-8859-1`, `latin1` and `ascii` read as Windows-1252 (a superset), and `gbk` as GB18030 (a
//! superset). `cp932` (Windows' name for Shift_JIS, accepted before labels were) is kept as an
//! alias. The labels of WHATWG's "replacement" encoding (`iso-2022-kr`, `hz-gb-2312`, …) are
//! refused: it decodes every file to a single replacement character.
//!
//! A mapping is written back with the encoding's canonical name in lower case (`utf-8`, `gbk`,
//! `shift_jis`, `windows-1252`), itself a label, so it reads back the same.
//!
//! ## Example
//! ```
//! use custlens::config::mapping::Encoding;
//! assert_eq!(Encoding::from_label("UTF-8"), Ok(Encoding::Fixed(encoding_rs::UTF_8)));
//! assert_eq!(Encoding::from_label("cp1252"), Ok(Encoding::Fixed(encoding_rs::WINDOWS_1252)));
//! assert_eq!(Encoding::from_label("auto"), Ok(Encoding::Auto));
//! assert!(Encoding::from_label("utf-9").unwrap_err().contains("gb18030"));
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Text encoding of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 (BOM stripped) when valid, else GB18030.
    #[default]
    Auto,
    /// UTF-8 when valid, else Shift-JIS when the bytes are Shift-JIS Japanese (Amazon JP), else
    /// Windows-1252 (Amazon's EU reports).
    AutoLatin,
    /// One encoding, as a WHATWG label names it (a UTF-8 BOM is stripped first; a UTF-16 file's
    /// own BOM is removed).
    Fixed(&'static encoding_rs::Encoding),
}

/// Names besides WHATWG's labels, lower case: (name, encoding).
const ALIASES: &[(&str, &encoding_rs::Encoding)] = &[("cp932", &encoding_rs::SHIFT_JIS_INIT)];

/// Examples for messages.
const EXAMPLES: &str = "auto, auto-latin, or an encoding label such as utf-8, gbk, gb18030, big5, shift_jis, \
    euc-jp, euc-kr, windows-1252, iso-8859-2, koi8-r, utf-16le \
    (the WHATWG labels: https://encoding.spec.whatwg.org/#names-and-labels)";

impl Encoding {
    /// The encoding a mapping's `encoding` names; the error says what was given and lists examples.
    pub fn from_label(label: &str) -> Result<Encoding, String> {
        let name = label.trim().to_ascii_lowercase();
        match name.as_str() {
            "auto" => return Ok(Encoding::Auto),
            "auto-latin" => return Ok(Encoding::AutoLatin),
            _ => {}
        }
        if let Some((_, e)) = ALIASES.iter().find(|(alias, _)| *alias == name) {
            return Ok(Encoding::Fixed(e));
        }
        match encoding_rs::Encoding::for_label(name.as_bytes()) {
            Some(e) if e == encoding_rs::REPLACEMENT => Err(format!(
                "`{label}` names an encoding that browsers never decode (WHATWG maps it to a single \
                 replacement character); convert the file to UTF-8, then use encoding = \"utf-8\""
            )),
            Some(e) => Ok(Encoding::Fixed(e)),
            None => Err(format!("`{label}` is not an encoding; use {EXAMPLES}")),
        }
    }

    /// The name a mapping writes: `auto`, `auto-latin`, or the encoding's name in lower case
    /// (a label of the same encoding).
    pub fn label(&self) -> String {
        match self {
            Encoding::Auto => "auto".into(),
            Encoding::AutoLatin => "auto-latin".into(),
            Encoding::Fixed(e) => e.name().to_ascii_lowercase(),
        }
    }
}

impl Serialize for Encoding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl<'de> Deserialize<'de> for Encoding {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Encoding, D::Error> {
        struct Label;
        impl serde::de::Visitor<'_> for Label {
            type Value = Encoding;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "an encoding name: {EXAMPLES}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Encoding, E> {
                Encoding::from_label(v).map_err(E::custom)
            }
        }
        d.deserialize_str(Label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs as e;

    fn fixed(label: &str) -> &'static e::Encoding {
        match Encoding::from_label(label) {
            Ok(Encoding::Fixed(enc)) => enc,
            other => panic!("{label}: {other:?}"),
        }
    }

    #[test]
    fn the_readmes_names_and_the_old_aliases_are_accepted() {
        for (label, want) in [
            ("utf-8", e::UTF_8),
            ("utf8", e::UTF_8),
            ("UTF-8", e::UTF_8),
            (" Utf-8 ", e::UTF_8),
            ("gbk", e::GBK),
            ("GBK", e::GBK),
            ("gb2312", e::GBK),
            ("gb18030", e::GB18030),
            ("GB18030", e::GB18030),
            ("windows-1252", e::WINDOWS_1252),
            ("cp1252", e::WINDOWS_1252),
            ("latin1", e::WINDOWS_1252),
            ("iso-8859-1", e::WINDOWS_1252),
            ("shift-jis", e::SHIFT_JIS),
            ("shift_jis", e::SHIFT_JIS),
            ("Shift_JIS", e::SHIFT_JIS),
            ("sjis", e::SHIFT_JIS),
            ("cp932", e::SHIFT_JIS),
            ("CP932", e::SHIFT_JIS),
            ("big5", e::BIG5),
            ("euc-kr", e::EUC_KR),
            ("euc-jp", e::EUC_JP),
            ("koi8-r", e::KOI8_R),
            ("iso-8859-2", e::ISO_8859_2),
            ("utf-16le", e::UTF_16LE),
            ("utf-16", e::UTF_16LE),
            ("utf-16be", e::UTF_16BE),
        ] {
            assert_eq!(fixed(label), want, "{label}");
        }
        assert_eq!(Encoding::from_label("auto"), Ok(Encoding::Auto));
        assert_eq!(Encoding::from_label("AUTO"), Ok(Encoding::Auto));
        assert_eq!(Encoding::from_label("auto-latin"), Ok(Encoding::AutoLatin));
    }

    #[test]
    fn a_bad_label_says_what_was_given_and_lists_examples() {
        for bad in ["utf-9", "", "auto_latin", "gbk2", "windows1252x"] {
            let err = Encoding::from_label(bad).unwrap_err();
            assert!(err.starts_with(&format!("`{bad}` is not an encoding; use auto, auto-latin")), "{err}");
            for example in ["utf-8", "gbk", "shift_jis", "windows-1252", "encoding.spec.whatwg.org"] {
                assert!(err.contains(example), "{example} in {err}");
            }
        }
    }

    #[test]
    fn replacement_labels_are_refused_with_what_to_do() {
        for bad in ["iso-2022-kr", "hz-gb-2312", "replacement"] {
            let err = Encoding::from_label(bad).unwrap_err();
            assert!(err.contains(&format!("`{bad}`")) && err.contains("convert the file to UTF-8"), "{err}");
        }
    }

    #[test]
    fn a_written_label_reads_back_as_the_same_encoding() {
        for label in ["auto", "auto-latin", "utf8", "gbk", "gb18030", "sjis", "cp932", "latin1", "big5", "utf-16be"] {
            let enc = Encoding::from_label(label).unwrap();
            assert_eq!(Encoding::from_label(&enc.label()), Ok(enc), "{label} → {}", enc.label());
        }
        assert_eq!(Encoding::Fixed(e::SHIFT_JIS).label(), "shift_jis");
    }

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct File {
        encoding: Encoding,
    }

    #[test]
    fn toml_names_are_labels_and_errors_point_at_the_key() {
        let f: File = toml::from_str("encoding = \"windows-1252\"").unwrap();
        assert_eq!(f.encoding, Encoding::Fixed(e::WINDOWS_1252));
        assert_eq!(toml::to_string(&f).unwrap().trim(), "encoding = \"windows-1252\"");
        let err = toml::from_str::<File>("encoding = \"utf-9\"").unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("`utf-9` is not an encoding"), "{err}");
        let err = toml::from_str::<File>("encoding = 8").unwrap_err().to_string();
        assert!(err.contains("an encoding name: auto, auto-latin"), "{err}");
    }
}
