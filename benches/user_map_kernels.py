"""The function of benches/user_map.py in Python, for dask's workers (uploaded with
`client.upload_file`): saturation vapour pressure (hPa, Magnus) of a temperature in K, per
block with numpy ufuncs, and per element through numba (compiled once per worker process)."""

import numba
import numpy as np


def vapour_numpy(b):
    t = b.astype("f8") - 273.15
    return 6.112 * np.exp(17.67 * t / (t + 243.5))


@numba.vectorize(["float64(float32)"], cache=False)
def _vapour(k):
    t = np.float64(k) - 273.15
    return 6.112 * np.exp(17.67 * t / (t + 243.5))


def vapour_numba(b):
    return _vapour(b)
