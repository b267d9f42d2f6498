use zarr_prelude::prelude::*;
// The crates whose types the prelude's API shows, as the cells' own (init.evcxr adds them as
// dependencies): the kernel writes the types of new variables with their paths, `ndarray::…`.
extern crate ndarray;
extern crate serde_json;
// Referenced from an item, which evcxr keeps in every cell: every cell then links the prelude,
// whose panic hook (installed when the library loads) reports panics as the cell's error, also
// in a process the kernel restarted.
#[used]
static ZK_PRELUDE: fn() = zarr_prelude::kernel_setup;
zarr_prelude::kernel_setup();
let _zk_warm = 0u8;
