//! numcodecs' codecs that zarrs lacks, written behind zarrs' codec traits and registered the
//! way zarrs registers its own (`inventory`), so that arrays zarr-python wrote with them open
//! like any other: `lz4` and `lzma` compressors, `delta` and `quantize` filters (v2 names and
//! numcodecs' v3 `numcodecs.*` names), and v2's `bitround` filter (zarrs has it for v3 only).
//! Each is checked against numcodecs' own output in tests/python/test_dtypes.py.

mod bitround;
mod delta;
mod lz4;
mod lzma;
mod numeric;
mod quantize;

/// The codecs added here, by their v2 names. Calling it keeps each module (and with it its
/// registration) in the link: `ZarrArray::zarrs` names them in its error.
pub(crate) fn names() -> [&'static str; 5] {
    [lz4::NAME, lzma::NAME, delta::NAME, quantize::NAME, bitround::NAME]
}

use zarrs::array::DataType;
use zarrs_codec::CodecError;

/// A codec's configuration as zarrs wants it: a JSON object.
fn configuration(v: serde_json::Value) -> zarrs::metadata::Configuration {
    match v {
        serde_json::Value::Object(map) => map.into(),
        _ => zarrs::metadata::Configuration::default(),
    }
}

/// A configuration zarrs could not give us as `T`.
fn bad_configuration(name: &str, e: impl std::fmt::Display) -> zarrs::plugin::PluginCreateError {
    zarrs::plugin::PluginCreateError::Other(format!("{name}: {e}"))
}

/// An unsupported element type for a filter, as a codec error.
fn unsupported(name: &str, data_type: &DataType) -> CodecError {
    CodecError::Other(format!("{name} does not support data type {data_type:?}"))
}
