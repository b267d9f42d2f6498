use zarr_prelude::prelude::*;
let _zk_warm = 0u8;
