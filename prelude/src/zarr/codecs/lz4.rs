//! numcodecs' `LZ4` compressor: the uncompressed size as 4 little-endian bytes, then one LZ4
//! block (numcodecs/lz4.pyx), which is `lz4_flex`'s size-prepended block format.

use std::borrow::Cow;
use std::sync::Arc;
use zarrs::array::{ArrayBytesRaw, BytesRepresentation};
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;
use zarrs_codec::{BytesToBytesCodecTraits, Codec, CodecError, CodecOptions, RecommendedConcurrency};

pub(super) const NAME: &str = "lz4";

/// `LZ4(acceleration)`; only the decoder's side of acceleration matters for reading.
#[derive(Clone, Debug)]
pub(super) struct Lz4Codec {
    acceleration: i64,
}

codec_plugin!(Lz4Codec, v3: "numcodecs.lz4", v2: "lz4");

fn create(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    let acceleration = configuration.get("acceleration").and_then(serde_json::Value::as_i64).unwrap_or(1);
    Ok(Codec::BytesToBytes(Arc::new(Lz4Codec { acceleration })))
}

impl Lz4Codec {
    fn written(&self) -> Configuration {
        super::configuration(serde_json::json!({"acceleration": self.acceleration}))
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
