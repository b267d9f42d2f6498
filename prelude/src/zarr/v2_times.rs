//! zarr-python 2's `datetime64` / `timedelta64` arrays (`<M8[ns]`, `<m8[s]`): zarrs knows these
//! data types in v3 only, so a v2 data type plugin (zarrs' registry, like `codecs/`) maps each
//! v2 name to zarrs' own `numpy.datetime64` / `numpy.timedelta64`.

use std::borrow::Cow;
use std::num::NonZeroU32;
use zarrs::array::data_type::api::{DataTypePluginV2, DataTypeTraitsV2};
use zarrs::array::data_type::{numpy_datetime64, numpy_timedelta64, NumpyTimeUnit};
use zarrs::array::DataType;
use zarrs::metadata::v2::DataTypeMetadataV2;
use zarrs::plugin::{PluginCreateError, ZarrVersion2};

/// Every v2 name of one kind (`M` or `m`): both byte orders, every unit.
fn names(kind: char) -> Vec<Cow<'static, str>> {
    let units = super::time::UNITS.iter().map(|u| u.1);
    ['<', '>'].iter().flat_map(|o| units.clone().map(move |u| Cow::Owned(format!("{o}{kind}8[{u}]")))).collect()
}

/// The unit of a v2 name such as `<M8[ns]`.
fn unit(metadata: &DataTypeMetadataV2) -> Result<NumpyTimeUnit, PluginCreateError> {
    let DataTypeMetadataV2::Simple(name) = metadata else {
        return Err(PluginCreateError::Other("structured dtypes are not datetimes".into()));
    };
    let code = name.get(4..name.len().saturating_sub(1)).unwrap_or_default();
    serde_json::from_value(serde_json::Value::from(code))
        .map_err(|_| PluginCreateError::NameInvalid { name: name.to_string() })
}

/// Declares a v2 data type plugin for one kind of time.
macro_rules! v2_time {
    ($marker:ident, $kind:literal, $make:ident) => {
        #[doc = concat!("The v2 `", $kind, "8[unit]` data types.")]
        pub(crate) struct $marker;

        impl DataTypeTraitsV2 for $marker {
            fn create(metadata: &DataTypeMetadataV2) -> Result<DataType, PluginCreateError> {
                Ok($make(unit(metadata)?, NonZeroU32::MIN))
            }
        }

        extension_aliases!($marker, ZarrVersion2, ExtensionAliasesConfig::new("", names($kind), vec![]));

        inventory::submit! {
            DataTypePluginV2::new::<$marker>()
        }
    };
}
v2_time!(DateTime64V2, 'M', numpy_datetime64);
v2_time!(TimeDelta64V2, 'm', numpy_timedelta64);

#[cfg(test)]
mod tests {
    use super::*;
    use zarrs::plugin::ExtensionAliases;

    #[test]
    fn v2_names_map_to_zarrs_numpy_types() {
        assert!(DateTime64V2::matches_name("<M8[ns]") && DateTime64V2::matches_name(">M8[D]"));
        assert!(!DateTime64V2::matches_name("<m8[s]") && TimeDelta64V2::matches_name("<m8[s]"));
        let dt = DateTime64V2::create(&DataTypeMetadataV2::Simple("<M8[us]".into())).unwrap();
        assert_eq!(dt.name_v3().as_deref(), Some("numpy.datetime64"));
        assert_eq!(unit(&DataTypeMetadataV2::Simple("<m8[s]".into())).unwrap(), NumpyTimeUnit::Second);
    }
}
