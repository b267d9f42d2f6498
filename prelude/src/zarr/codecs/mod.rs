//! numcodecs' codecs that zarrs lacks, written behind zarrs' codec traits and registered the
//! way zarrs registers its own (`inventory`), so that arrays zarr-python wrote with them open
//! like any other: `lz4` and `lzma` compressors, `delta` and `quantize` filters (v2 names and
//! numcodecs' v3 `numcodecs.*` names), and v2's `bitround` filter (zarrs has it for v3 only).
//! Each is checked against numcodecs' own output in tests/python/test_dtypes.py.

/// The zarrs plumbing every codec here shares, for a codec type `$codec` whose module has
/// `fn create(&Configuration) -> Result<Codec, PluginCreateError>` and an inherent
/// `fn written(&self) -> Configuration` (the configuration its metadata records): the v3 and v2
/// names, registration, creation from either version's metadata, no partial decoding and, for a
/// filter (`array_to_array`), one chunk at a time.
macro_rules! codec_plugin {
    ($codec:ident, v3: $v3:literal, v2: $v2:literal) => {
        zarrs::plugin::impl_extension_aliases!($codec, v3: $v3, [], v2: $v2, []);
        inventory::submit! { zarrs_codec::CodecPluginV3::new::<$codec>() }
        inventory::submit! { zarrs_codec::CodecPluginV2::new::<$codec>() }

        impl zarrs_codec::CodecTraitsV3 for $codec {
            fn create(m: &zarrs::metadata::v3::MetadataV3) -> Result<Codec, PluginCreateError> {
                create(&m.configuration().cloned().unwrap_or_default())
            }
        }

        impl zarrs_codec::CodecTraitsV2 for $codec {
            fn create(m: &zarrs::metadata::v2::MetadataV2) -> Result<Codec, PluginCreateError> {
                create(m.configuration())
            }
        }

        impl zarrs_codec::CodecTraits for $codec {
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }

            fn configuration(
                &self,
                _version: zarrs::plugin::ZarrVersion,
                _options: &zarrs_codec::CodecMetadataOptions,
            ) -> Option<Configuration> {
                Some(self.written())
            }

            fn partial_decoder_capability(&self) -> zarrs_codec::PartialDecoderCapability {
                zarrs_codec::PartialDecoderCapability { partial_read: false, partial_decode: false }
            }

            fn partial_encoder_capability(&self) -> zarrs_codec::PartialEncoderCapability {
                zarrs_codec::PartialEncoderCapability { partial_encode: false }
            }
        }
    };
    (array_to_array $codec:ident, v3: $v3:literal, v2: $v2:literal) => {
        codec_plugin!($codec, v3: $v3, v2: $v2);

        impl zarrs_codec::ArrayCodecTraits for $codec {
            fn recommended_concurrency(
                &self,
                _shape: &[std::num::NonZeroU64],
                _data_type: &DataType,
            ) -> Result<zarrs_codec::RecommendedConcurrency, CodecError> {
                Ok(zarrs_codec::RecommendedConcurrency::new_maximum(1))
            }
        }
    };
}

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
