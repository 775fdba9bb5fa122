"""Makes the small NumPy files that Tests/HutchModelTests read (run from anywhere):

    /root/hutch-venv/bin/python Tests/Fixtures/model/make_numpy.py

Written by NumPy itself, so the Swift reader is checked against the real format: .npy in
format versions 1.0, 2.0 and 3.0 and several dtypes, a Fortran-order file (read by
reordering to C order), a big-endian file (refused), and .npz archives from numpy.savez
and numpy.savez_compressed. The values are a simple formula (arange) so the tests can
recompute them.
"""
import os

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy")
os.makedirs(HERE, exist_ok=True)

x = (np.arange(2 * 3 * 8 * 8, dtype=np.float32) / 100.0 - 1.0).reshape(2, 3, 8, 8)
y = np.array([3, 9], dtype=np.int64)

for version in [(1, 0), (2, 0), (3, 0)]:
    with open(os.path.join(HERE, f"x_v{version[0]}.npy"), "wb") as f:
        npformat.write_array(f, x, version=version)

for name, dtype in [("f8", np.float64), ("i8", np.int64), ("i4", np.int32), ("u1", np.uint8), ("i1", np.int8), ("i2", np.int16)]:
    np.save(os.path.join(HERE, f"small_{name}.npy"), (np.arange(6) - (2 if name not in ("u1",) else 0)).astype(dtype).reshape(2, 3))

np.save(os.path.join(HERE, "fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(os.path.join(HERE, "bigendian.npy"), np.arange(6, dtype=">f4"))
np.save(os.path.join(HERE, "scalar.npy"), np.float32(1.5))
np.save(os.path.join(HERE, "y.npy"), y)
np.save(os.path.join(HERE, "x.npy"), x)
np.savez(os.path.join(HERE, "data_stored.npz"), x=x, y=y)
np.savez_compressed(os.path.join(HERE, "data_deflated.npz"), x=x, y=y)
