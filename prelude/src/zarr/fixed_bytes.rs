//! numpy's fixed-width bytes (`|S5`; zarr-python 3 calls it `null_terminated_bytes` in v3),
//! which zarrs lacks: a data type plugin registered like zarrs' own (`inventory`), and
//! [`FixedBytes`], the element type a chunk decodes to. Values are padded with NULs to the
//! width and read back without trailing NULs, as numpy does.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::num::NonZeroU64;
use std::sync::Arc;

use base64::Engine;
use zarrs::array::data_type::api::codec_traits::bytes::{
    BytesCodecEndiannessMissingError, BytesDataTypePlugin, BytesDataTypeTraits,
};
use zarrs::array::data_type::api::{
    DataTypeFillValueError, DataTypeFillValueMetadataError, DataTypePluginV2, DataTypePluginV3, DataTypeTraits,
    DataTypeTraitsV2, DataTypeTraitsV3, FillValue,
};
use zarrs::array::{ArrayBytes, DataType, Element, ElementError, ElementOwned};
use zarrs::metadata::v2::DataTypeMetadataV2;
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata::{Configuration, DataTypeSize, Endianness, FillValueMetadata};
use zarrs::plugin::{ExtensionName, PluginCreateError, Regex, ZarrVersion, ZarrVersion2, ZarrVersion3};

/// The v3 name zarr-python 3 writes.
const V3_NAME: &str = "null_terminated_bytes";

/// Fixed-width bytes of `width` bytes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FixedBytesType {
    width: NonZeroU64,
}

impl FixedBytesType {
    fn width(&self) -> usize {
        self.width.get() as usize
    }
}

impl DataTypeTraitsV3 for FixedBytesType {
    fn create(metadata: &MetadataV3) -> Result<DataType, PluginCreateError> {
        let length = metadata.configuration().and_then(|c| c.get("length_bytes")).and_then(|v| v.as_u64());
        let width = length.and_then(NonZeroU64::new).ok_or_else(|| {
            PluginCreateError::Other(format!("{V3_NAME} needs a configuration with length_bytes > 0"))
        })?;
        Ok(Arc::new(FixedBytesType { width }).into())
    }
}

impl DataTypeTraitsV2 for FixedBytesType {
    fn create(metadata: &DataTypeMetadataV2) -> Result<DataType, PluginCreateError> {
        let name = match metadata {
            DataTypeMetadataV2::Simple(name) => name.as_str(),
            DataTypeMetadataV2::Structured(_) => return Err(PluginCreateError::Other("a structured dtype".into())),
        };
        let width = name.get(2..).and_then(|n| n.parse::<u64>().ok()).and_then(NonZeroU64::new);
        let width = width.ok_or_else(|| PluginCreateError::NameInvalid { name: name.to_string() })?;
        Ok(Arc::new(FixedBytesType { width }).into())
    }
}

extension_aliases!(FixedBytesType, ZarrVersion3, ExtensionAliasesConfig::new(V3_NAME, vec![], vec![]));
extension_aliases!(FixedBytesType, ZarrVersion2, {
    let name = Regex::new(r"^[|<>]S\d+$").expect("a valid pattern");
    ExtensionAliasesConfig::new("", vec![], vec![name])
});

impl ExtensionName for FixedBytesType {
    fn name(&self, version: ZarrVersion) -> Option<Cow<'static, str>> {
        Some(match version {
            ZarrVersion::V3 => Cow::Borrowed(V3_NAME),
            ZarrVersion::V2 => Cow::Owned(format!("|S{}", self.width)),
        })
    }
}

inventory::submit! { DataTypePluginV3::new::<FixedBytesType>() }
inventory::submit! { DataTypePluginV2::new::<FixedBytesType>() }

impl DataTypeTraits for FixedBytesType {
    fn configuration(&self, version: ZarrVersion) -> Configuration {
        match version {
            ZarrVersion::V3 => {
                let mut config = serde_json::Map::new();
                config.insert("length_bytes".into(), self.width.get().into());
                Configuration::from(config)
            }
            ZarrVersion::V2 => Configuration::default(),
        }
    }

    fn size(&self) -> DataTypeSize {
        DataTypeSize::Fixed(self.width())
    }

    /// zarr-python writes the fill value as base64 (`"YWI="` for `b"ab"`; v2 may say `null`).
    fn fill_value(
        &self,
        metadata: &FillValueMetadata,
        _version: ZarrVersion,
    ) -> Result<FillValue, DataTypeFillValueMetadataError> {
        let bytes = match metadata.as_str() {
            Some(s) => {
                base64::engine::general_purpose::STANDARD.decode(s).map_err(|_| DataTypeFillValueMetadataError)?
            }
            None if metadata.is_null() => vec![],
            None => return Err(DataTypeFillValueMetadataError),
        };
        pad(&bytes, self.width()).map(FillValue::new).ok_or(DataTypeFillValueMetadataError)
    }

    fn metadata_fill_value(&self, fill_value: &FillValue) -> Result<FillValueMetadata, DataTypeFillValueError> {
        let text = base64::engine::general_purpose::STANDARD.encode(trim(fill_value.as_ne_bytes()));
        Ok(FillValueMetadata::from(text))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn compatible_element_types(&self) -> &'static [TypeId] {
        const TYPES: [TypeId; 1] = [TypeId::of::<FixedBytes>()];
        &TYPES
    }
}

/// Bytes have no byte order: the `bytes` codec passes them through.
impl BytesDataTypeTraits for FixedBytesType {
    fn encode<'a>(
        &self,
        bytes: Cow<'a, [u8]>,
        _: Option<Endianness>,
    ) -> Result<Cow<'a, [u8]>, BytesCodecEndiannessMissingError> {
        Ok(bytes)
    }
    fn decode<'a>(
        &self,
        bytes: Cow<'a, [u8]>,
        endianness: Option<Endianness>,
    ) -> Result<Cow<'a, [u8]>, BytesCodecEndiannessMissingError> {
        self.encode(bytes, endianness)
    }
}

inventory::submit! {
    BytesDataTypePlugin {
        type_id: TypeId::of::<FixedBytesType>(),
        caster: |any: &dyn Any| any.downcast_ref::<FixedBytesType>().map(|t| t as &dyn BytesDataTypeTraits),
    }
}

/// `bytes` padded with NULs to `width`, or `None` when longer.
fn pad(bytes: &[u8], width: usize) -> Option<Vec<u8>> {
    (bytes.len() <= width).then(|| {
        let mut v = bytes.to_vec();
        v.resize(width, 0);
        v
    })
}

/// Without trailing NULs, as numpy reads `|S` values.
fn trim(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// One value of a fixed-width bytes array, the element type its chunks decode to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FixedBytes(pub(crate) Vec<u8>);

fn width_of(data_type: &DataType) -> Result<usize, ElementError> {
    data_type.downcast_ref::<FixedBytesType>().map(FixedBytesType::width).ok_or(ElementError::IncompatibleElementType)
}

impl Element for FixedBytes {
    fn validate_data_type(data_type: &DataType) -> Result<(), ElementError> {
        width_of(data_type).map(|_| ())
    }

    fn to_array_bytes<'a>(data_type: &DataType, elements: &'a [Self]) -> Result<ArrayBytes<'a>, ElementError> {
        let width = width_of(data_type)?;
        let mut out = Vec::with_capacity(elements.len() * width);
        for e in elements {
            out.extend(pad(&e.0, width).ok_or(ElementError::InvalidElementValue)?);
        }
        Ok(ArrayBytes::new_flen(out))
    }

    fn into_array_bytes(data_type: &DataType, elements: Vec<Self>) -> Result<ArrayBytes<'static>, ElementError> {
        Ok(Self::to_array_bytes(data_type, &elements)?.into_owned())
    }
}

impl ElementOwned for FixedBytes {
    fn from_array_bytes(data_type: &DataType, bytes: ArrayBytes<'_>) -> Result<Vec<Self>, ElementError> {
        let width = width_of(data_type)?;
        let raw = bytes.into_fixed()?;
        Ok(raw.chunks_exact(width).map(|b| FixedBytes(trim(b).to_vec())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fill_values_and_elements_like_numpy() {
        let dt = <FixedBytesType as DataTypeTraitsV2>::create(&DataTypeMetadataV2::Simple("|S5".into())).unwrap();
        assert_eq!(dt.name_v3().as_deref(), Some(V3_NAME));
        let t = FixedBytesType { width: NonZeroU64::new(5).unwrap() };
        let fill = t.fill_value(&FillValueMetadata::from("YWI="), ZarrVersion::V3).unwrap();
        assert_eq!(fill.as_ne_bytes(), b"ab\0\0\0");
        assert_eq!(t.fill_value(&FillValueMetadata::Null, ZarrVersion::V2).unwrap().as_ne_bytes(), [0; 5]);
        assert_eq!(t.metadata_fill_value(&fill).unwrap(), FillValueMetadata::from("YWI="));
        // Interior NULs stay; trailing ones are padding.
        let values = vec![FixedBytes(b"abc".to_vec()), FixedBytes(b"\xff\0x".to_vec())];
        let bytes = FixedBytes::to_array_bytes(&dt, &values).unwrap();
        assert_eq!(FixedBytes::from_array_bytes(&dt, bytes).unwrap(), values);
        assert!(FixedBytes::to_array_bytes(&dt, &[FixedBytes(b"toolong".to_vec())]).is_err());
    }
}
