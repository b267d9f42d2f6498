//! The AWS configuration files' INI dialect (`~/.aws/credentials`, `~/.aws/config`).

use crate::error::{Error, ErrorKind, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// The AWS INI dialect: `[section]`, `key = value`, `#`/`;` comments, and indented
/// `key = value` lines under a `name =` line as nested settings (stored as `name.key`).
#[derive(Debug, Default)]
pub(super) struct IniFile {
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl IniFile {
    /// `Ok(None)` when the file does not exist.
    pub(super) fn load(path: &Path) -> Result<Option<IniFile>> {
        match std::fs::read_to_string(path) {
            Ok(text) => IniFile::parse(&text, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("cannot read", path, e)),
        }
    }

    pub(super) fn parse(text: &str, path: &Path) -> Result<IniFile> {
        let mut file = IniFile::default();
        let mut current: Option<String> = None;
        let mut nested: Option<String> = None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let bad = |what: &str| {
                Error::new(
                    ErrorKind::Config,
                    format!("malformed {} line {}: {what}; expected [profile] or key = value", path.display(), n + 1),
                )
            };
            if let Some(name) = line.strip_prefix('[') {
                let name = name.strip_suffix(']').ok_or_else(|| bad("section header without ']'"))?.trim();
                current = Some(name.to_string());
                nested = None;
                file.sections.entry(name.to_string()).or_default();
                continue;
            }
            let section = current.as_ref().ok_or_else(|| bad("setting before any [section]"))?;
            let (key, value) = line.split_once('=').ok_or_else(|| bad("no '='"))?;
            let (key, value) = (key.trim().to_lowercase(), value.trim().to_string());
            let indented = raw.starts_with(char::is_whitespace);
            let entries = file.sections.get_mut(section).expect("section inserted above");
            match (&nested, indented) {
                (Some(parent), true) => {
                    entries.insert(format!("{parent}.{key}"), value);
                }
                _ if value.is_empty() => nested = Some(key),
                _ => {
                    nested = None;
                    entries.insert(key, value);
                }
            }
        }
        Ok(file)
    }

    pub(super) fn section(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.sections.get(name)
    }

    pub(super) fn names(&self) -> Vec<String> {
        self.sections.keys().map(|k| k.trim_start_matches("profile ").to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_s3_endpoint_in_config() {
        let ini = "[profile js]\nregion = r1\ns3 =\n  endpoint_url = http://127.0.0.1:9\n[default]\nregion=x\n";
        let f = IniFile::parse(ini, Path::new("config")).unwrap();
        let s = f.section("profile js").unwrap();
        assert_eq!(s.get("s3.endpoint_url").unwrap(), "http://127.0.0.1:9");
        assert_eq!(s.get("region").unwrap(), "r1");
        assert_eq!(f.section("default").unwrap().get("region").unwrap(), "x");
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let e = IniFile::parse("[default]\naws_access_key_id\n", Path::new("/h/.aws/credentials")).unwrap_err();
        assert!(e.message().contains("/h/.aws/credentials line 2"), "{e}");
    }
}
