//! v2's `bitround` filter (numcodecs' `BitRound(keepbits)`): zarrs has the codec, registered
//! for v3 only; this names it for v2 metadata too.

use std::sync::Arc;
use zarrs::array::codec::BitroundCodec;
use zarrs::metadata::v2::MetadataV2;
use zarrs::plugin::PluginCreateError;
use zarrs_codec::{Codec, CodecPluginV2, CodecTraitsV2};

pub(super) const NAME: &str = "bitround";

/// The v2 name of zarrs' [`BitroundCodec`] (never built itself).
pub(super) struct BitroundV2;

zarrs::plugin::impl_extension_aliases!(BitroundV2, v2: "bitround", []);

inventory::submit! { CodecPluginV2::new::<BitroundV2>() }

impl CodecTraitsV2 for BitroundV2 {
    fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        let keepbits = metadata.configuration().get("keepbits").and_then(serde_json::Value::as_u64);
        let keepbits = keepbits.ok_or_else(|| super::bad_configuration(NAME, "no keepbits"))?;
        Ok(Codec::ArrayToArray(Arc::new(BitroundCodec::new(keepbits as u32))))
    }
}
