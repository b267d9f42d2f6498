//! numcodecs' `Quantize(digits, dtype)` filter: lossy on writing (each value rounded to a
//! multiple of a power of two fine enough for `digits` decimal digits), the identity on reading.

use std::sync::Arc;
use zarrs::array::{ArrayBytes, DataType, FillValue};
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;
use zarrs_codec::{ArrayToArrayCodecTraits, Codec, CodecError, CodecOptions};

use super::numeric::{Kind, Numeric};

pub(super) const NAME: &str = "quantize";

#[derive(Clone, Debug)]
pub(super) struct QuantizeCodec {
    digits: i64,
    dtype: Numeric,
}

codec_plugin!(array_to_array QuantizeCodec, v3: "numcodecs.quantize", v2: "quantize");

fn create(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    let dtype = Numeric::from_configuration(NAME, configuration)?;
    let digits = configuration.get("digits").and_then(serde_json::Value::as_i64);
    let digits = digits.ok_or_else(|| super::bad_configuration(NAME, "no digits"))?;
    if dtype.kind != Kind::Float {
        return Err(super::bad_configuration(NAME, format!("dtype {} is not a float", dtype.name)));
    }
    Ok(Codec::ArrayToArray(Arc::new(QuantizeCodec { digits, dtype })))
}

impl QuantizeCodec {
    fn written(&self) -> Configuration {
        let (d, name) = (self.digits, &self.dtype.name);
        super::configuration(serde_json::json!({"digits": d, "dtype": name, "astype": name}))
    }

    /// numcodecs' scale: 2 to the bits needed for 10^-digits, the precision's exponent rounded
    /// away from zero.
    fn scale(&self) -> f64 {
        let exp = -(self.digits as f64);
        let exp = if exp < 0.0 { exp.floor() } else { exp.ceil() };
        2f64.powf(10f64.powf(-exp).log2().ceil())
    }
}

impl ArrayToArrayCodecTraits for QuantizeCodec {
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
        self.dtype.check(NAME, data_type)?;
        let mut bytes = bytes.into_fixed()?;
        let b = bytes.to_mut().as_mut_slice();
        let scale = self.scale();
        // numpy's around (half to even), in the array's own precision.
        if self.dtype.size == 4 {
            let s = scale as f32;
            for c in b.chunks_exact_mut(4) {
                let v = f32::from_ne_bytes(c.try_into().expect("4 bytes"));
                c.copy_from_slice(&((s * v).round_ties_even() / s).to_ne_bytes());
            }
        } else {
            for c in b.chunks_exact_mut(8) {
                let v = f64::from_ne_bytes(c.try_into().expect("8 bytes"));
                c.copy_from_slice(&((scale * v).round_ties_even() / scale).to_ne_bytes());
            }
        }
        Ok(ArrayBytes::from(bytes))
    }

    fn decode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        _shape: &[std::num::NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        self.dtype.check(NAME, data_type)?;
        Ok(bytes)
    }
}
