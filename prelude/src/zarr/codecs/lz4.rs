//! numcodecs' `LZ4` compressor: the uncompressed size as 4 little-endian bytes, then one LZ4
//! block (numcodecs/lz4.pyx), which is `lz4_flex`'s size-prepended block format.

use std::borrow::Cow;
use std::sync::Arc;
use zarrs::array::{ArrayBytesRaw, BytesRepresentation};
use zarrs::metadata::v2::MetadataV2;
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata::Configuration;
use zarrs::plugin::{PluginCreateError, ZarrVersion};
use zarrs_codec::{
    BytesToBytesCodecTraits, Codec, CodecError, CodecMetadataOptions, CodecOptions, CodecPluginV2, CodecPluginV3,
    CodecTraits, CodecTraitsV2, CodecTraitsV3, PartialDecoderCapability, PartialEncoderCapability,
    RecommendedConcurrency,
};

pub(super) const NAME: &str = "lz4";

/// `LZ4(acceleration)`; only the decoder's side of acceleration matters for reading.
#[derive(Clone, Debug)]
pub(super) struct Lz4Codec {
    acceleration: i64,
}

zarrs::plugin::impl_extension_aliases!(Lz4Codec, v3: "numcodecs.lz4", [], v2: "lz4", []);

inventory::submit! { CodecPluginV3::new::<Lz4Codec>() }
inventory::submit! { CodecPluginV2::new::<Lz4Codec>() }

fn create(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    let acceleration = configuration.get("acceleration").and_then(serde_json::Value::as_i64).unwrap_or(1);
    Ok(Codec::BytesToBytes(Arc::new(Lz4Codec { acceleration })))
}

impl CodecTraitsV3 for Lz4Codec {
    fn create(metadata: &MetadataV3) -> Result<Codec, PluginCreateError> {
        create(&metadata.configuration().cloned().unwrap_or_default())
    }
}

impl CodecTraitsV2 for Lz4Codec {
    fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        create(metadata.configuration())
    }
}

impl CodecTraits for Lz4Codec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(&self, _version: ZarrVersion, _options: &CodecMetadataOptions) -> Option<Configuration> {
        Some(super::configuration(serde_json::json!({"acceleration": self.acceleration})))
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        PartialDecoderCapability { partial_read: false, partial_decode: false }
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        PartialEncoderCapability { partial_encode: false }
    }
}

impl BytesToBytesCodecTraits for Lz4Codec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self as Arc<dyn BytesToBytesCodecTraits>
    }

    fn recommended_concurrency(&self, _decoded: &BytesRepresentation) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encode<'a>(&self, decoded: ArrayBytesRaw<'a>, _options: &CodecOptions) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Ok(Cow::Owned(lz4_flex::block::compress_prepend_size(&decoded)))
    }

    fn decode<'a>(
        &self,
        encoded: ArrayBytesRaw<'a>,
        _decoded: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let out = lz4_flex::block::decompress_size_prepended(&encoded)
            .map_err(|e| CodecError::Other(format!("lz4: a chunk is not an LZ4 block as numcodecs writes it ({e})")))?;
        Ok(Cow::Owned(out))
    }

    fn encoded_representation(&self, decoded: &BytesRepresentation) -> BytesRepresentation {
        decoded.size().map_or(BytesRepresentation::UnboundedSize, |n| {
            BytesRepresentation::BoundedSize(4 + lz4_flex::block::get_maximum_output_size(n as usize) as u64)
        })
    }
}
