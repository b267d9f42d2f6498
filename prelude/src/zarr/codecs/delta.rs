//! numcodecs' `Delta(dtype)` filter: a chunk's values (flattened in C order) stored as the
//! first value and then each value's difference from the one before; decoding is their running
//! sum in the element type (integers wrap, like numpy's cumsum cast back to the dtype).

use std::sync::Arc;
use zarrs::array::{ArrayBytes, DataType, FillValue};
use zarrs::metadata::v2::MetadataV2;
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata::Configuration;
use zarrs::plugin::{PluginCreateError, ZarrVersion};
use zarrs_codec::{
    ArrayCodecTraits, ArrayToArrayCodecTraits, Codec, CodecError, CodecMetadataOptions, CodecOptions, CodecPluginV2,
    CodecPluginV3, CodecTraits, CodecTraitsV2, CodecTraitsV3, PartialDecoderCapability, PartialEncoderCapability,
    RecommendedConcurrency,
};

use super::numeric::{Kind, Numeric};

pub(super) const NAME: &str = "delta";

#[derive(Clone, Debug)]
pub(super) struct DeltaCodec {
    dtype: Numeric,
}

zarrs::plugin::impl_extension_aliases!(DeltaCodec, v3: "numcodecs.delta", [], v2: "delta", []);

inventory::submit! { CodecPluginV3::new::<DeltaCodec>() }
inventory::submit! { CodecPluginV2::new::<DeltaCodec>() }

fn create(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    let dtype = Numeric::from_configuration(NAME, configuration)?;
    Ok(Codec::ArrayToArray(Arc::new(DeltaCodec { dtype })))
}

impl CodecTraitsV3 for DeltaCodec {
    fn create(metadata: &MetadataV3) -> Result<Codec, PluginCreateError> {
        create(&metadata.configuration().cloned().unwrap_or_default())
    }
}

impl CodecTraitsV2 for DeltaCodec {
    fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        create(metadata.configuration())
    }
}

impl CodecTraits for DeltaCodec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(&self, _version: ZarrVersion, _options: &CodecMetadataOptions) -> Option<Configuration> {
        Some(super::configuration(serde_json::json!({"dtype": self.dtype.name, "astype": self.dtype.name})))
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        PartialDecoderCapability { partial_read: false, partial_decode: false }
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        PartialEncoderCapability { partial_encode: false }
    }
}

impl ArrayCodecTraits for DeltaCodec {
    fn recommended_concurrency(
        &self,
        _shape: &[std::num::NonZeroU64],
        _data_type: &DataType,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }
}

/// Each value minus the one before (`forward`), or the running sum (`!forward`), in place.
macro_rules! delta {
    ($bytes:expr, $forward:expr, $t:ty, $sub:ident, $add:ident) => {{
        const N: usize = std::mem::size_of::<$t>();
        let get = |b: &[u8], i: usize| <$t>::from_ne_bytes(b[i * N..(i + 1) * N].try_into().expect("N bytes"));
        let n = $bytes.len() / N;
        if $forward {
            for i in (1..n).rev() {
                let v = get($bytes, i).$sub(get($bytes, i - 1));
                $bytes[i * N..(i + 1) * N].copy_from_slice(&v.to_ne_bytes());
            }
        } else {
            for i in 1..n {
                let v = get($bytes, i).$add(get($bytes, i - 1));
                $bytes[i * N..(i + 1) * N].copy_from_slice(&v.to_ne_bytes());
            }
        }
    }};
}

impl DeltaCodec {
    fn apply<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        data_type: &DataType,
        forward: bool,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        self.dtype.check(NAME, data_type)?;
        let mut bytes = bytes.into_fixed()?;
        let b = bytes.to_mut().as_mut_slice();
        match (self.dtype.kind, self.dtype.size) {
            (Kind::Int, 1) => delta!(b, forward, i8, wrapping_sub, wrapping_add),
            (Kind::Int, 2) => delta!(b, forward, i16, wrapping_sub, wrapping_add),
            (Kind::Int, 4) => delta!(b, forward, i32, wrapping_sub, wrapping_add),
            (Kind::Int, 8) => delta!(b, forward, i64, wrapping_sub, wrapping_add),
            (Kind::UInt, 1) => delta!(b, forward, u8, wrapping_sub, wrapping_add),
            (Kind::UInt, 2) => delta!(b, forward, u16, wrapping_sub, wrapping_add),
            (Kind::UInt, 4) => delta!(b, forward, u32, wrapping_sub, wrapping_add),
            (Kind::UInt, 8) => delta!(b, forward, u64, wrapping_sub, wrapping_add),
            (Kind::Float, 4) => delta!(b, forward, f32, sub, add),
            (Kind::Float, 8) => delta!(b, forward, f64, sub, add),
            _ => return Err(super::unsupported(NAME, data_type)),
        }
        Ok(ArrayBytes::from(bytes))
    }
}

use std::ops::{Add, Sub};

impl ArrayToArrayCodecTraits for DeltaCodec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn ArrayToArrayCodecTraits> {
        self as Arc<dyn ArrayToArrayCodecTraits>
    }

    fn encoded_data_type(&self, decoded: &DataType) -> Result<DataType, CodecError> {
        Ok(decoded.clone())
    }

    fn encode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        _shape: &[std::num::NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        self.apply(bytes, data_type, true)
    }

    fn decode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        _shape: &[std::num::NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        self.apply(bytes, data_type, false)
    }
}
