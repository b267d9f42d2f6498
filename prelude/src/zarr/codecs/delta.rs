//! numcodecs' `Delta(dtype)` filter: a chunk's values (flattened in C order) stored as the
//! first value and then each value's difference from the one before; decoding is their running
//! sum in the element type (integers wrap, like numpy's cumsum cast back to the dtype).

use std::sync::Arc;
use zarrs::array::{ArrayBytes, DataType, FillValue};
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;
use zarrs_codec::{ArrayToArrayCodecTraits, Codec, CodecError, CodecOptions};

use super::numeric::{Kind, Numeric};

pub(super) const NAME: &str = "delta";

#[derive(Clone, Debug)]
pub(super) struct DeltaCodec {
    dtype: Numeric,
}

codec_plugin!(array_to_array DeltaCodec, v3: "numcodecs.delta", v2: "delta");

fn create(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    let dtype = Numeric::from_configuration(NAME, configuration)?;
    Ok(Codec::ArrayToArray(Arc::new(DeltaCodec { dtype })))
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
    fn written(&self) -> Configuration {
        super::configuration(serde_json::json!({"dtype": self.dtype.name, "astype": self.dtype.name}))
    }

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
