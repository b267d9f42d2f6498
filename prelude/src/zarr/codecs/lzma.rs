//! numcodecs' `LZMA` compressor: Python's `lzma.compress(buf, format, check, preset, filters)`;
//! the `.xz` container (format 1, numcodecs' default) and the legacy `.lzma` one (format 2),
//! through `lzma-rs`. Raw streams with custom filter chains (format 3) are refused at open.

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::Arc;
use zarrs::array::{ArrayBytesRaw, BytesRepresentation};
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;
use zarrs_codec::{BytesToBytesCodecTraits, Codec, CodecError, CodecOptions, RecommendedConcurrency};

pub(super) const NAME: &str = "lzma";

/// Python's `lzma.FORMAT_XZ` and `lzma.FORMAT_ALONE`.
const FORMAT_XZ: i64 = 1;
const FORMAT_ALONE: i64 = 2;

#[derive(Clone, Debug)]
pub(super) struct LzmaCodec {
    /// The configuration as written (format, check, preset, filters), kept for the metadata.
    configuration: Configuration,
    format: i64,
}

codec_plugin!(LzmaCodec, v3: "numcodecs.lzma", v2: "lzma");

fn create(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    // The v2 document carries the codec's "id" too; the metadata we give back must not.
    let mut map: serde_json::Map<String, serde_json::Value> = configuration.clone().into();
    map.remove("id");
    let configuration: Configuration = map.into();
    let format = configuration.get("format").and_then(serde_json::Value::as_i64).unwrap_or(FORMAT_XZ);
    let filters = configuration.get("filters").is_some_and(|f| !f.is_null());
    if !matches!(format, FORMAT_XZ | FORMAT_ALONE) || filters {
        return Err(PluginCreateError::Other(format!(
            "lzma: format {format}{} is not read here (only .xz and .lzma streams, numcodecs' default)",
            if filters { " with custom filters" } else { "" }
        )));
    }
    Ok(Codec::BytesToBytes(Arc::new(LzmaCodec { configuration, format })))
}

impl LzmaCodec {
    fn written(&self) -> Configuration {
        self.configuration.clone()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> CodecError {
    CodecError::Other(format!("lzma: cannot {what} a chunk ({e})"))
}

impl BytesToBytesCodecTraits for LzmaCodec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self as Arc<dyn BytesToBytesCodecTraits>
    }

    fn recommended_concurrency(&self, _decoded: &BytesRepresentation) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encode<'a>(&self, decoded: ArrayBytesRaw<'a>, _options: &CodecOptions) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let mut out = Vec::new();
        let mut input = Cursor::new(&*decoded);
        if self.format == FORMAT_XZ {
            lzma_rs::xz_compress(&mut input, &mut out).map_err(|e| failed("compress", e))?;
        } else {
            lzma_rs::lzma_compress(&mut input, &mut out).map_err(|e| failed("compress", e))?;
        }
        Ok(Cow::Owned(out))
    }

    fn decode<'a>(
        &self,
        encoded: ArrayBytesRaw<'a>,
        _decoded: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let mut out = Vec::new();
        let mut input = Cursor::new(&*encoded);
        if self.format == FORMAT_XZ {
            lzma_rs::xz_decompress(&mut input, &mut out).map_err(|e| failed("decompress", e))?;
        } else {
            lzma_rs::lzma_decompress(&mut input, &mut out).map_err(|e| failed("decompress", e))?;
        }
        Ok(Cow::Owned(out))
    }

    fn encoded_representation(&self, _decoded: &BytesRepresentation) -> BytesRepresentation {
        BytesRepresentation::UnboundedSize
    }
}
