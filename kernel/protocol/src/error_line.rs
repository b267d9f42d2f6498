//! How a prelude error names its kind to the kernel: the prelude's `Error` formats with `{:#}` as
//! `Kind: message`, and the kernel, seeing that a `?` returned that type, shows the kind as the
//! cell's `ename` (`NotFound`, `InvalidInput`, …) and the message as its `evalue`.

/// The Rust type name of the prelude's error, as `std::any::type_name` gives it.
pub const PRELUDE_ERROR: &str = "zarr_prelude::error::Error";

/// The line for an error of `kind` (an identifier) with `message`.
pub fn format(kind: &str, message: &str) -> String {
    format!("{kind}: {message}")
}

/// `(kind, message)` of such a line; `None` when it does not start with an identifier and ": ".
pub fn parse(line: &str) -> Option<(&str, &str)> {
    let (kind, message) = line.split_once(": ")?;
    (!kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric())).then_some((kind, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_and_message_round_trip() {
        let line = format("NotFound", "no array at s3://b/x.zarr: check the path");
        assert_eq!(parse(&line), Some(("NotFound", "no array at s3://b/x.zarr: check the path")));
        assert_eq!(parse("a plain message"), None);
        assert_eq!(parse(": empty kind"), None);
        assert_eq!(parse("two words: no"), None);
    }
}
