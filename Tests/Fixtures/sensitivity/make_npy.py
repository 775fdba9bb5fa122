"""Writes mlp_x.npy / mlp_y.npy: the inputs and labels of Tests/Fixtures/mlp_ref.npz as separate .npy
files, for `hutch trace --inputs X.npy --labels Y.npy` tests. Run: python3 Tests/Fixtures/sensitivity/make_npy.py"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
ref = np.load(os.path.join(here, "..", "mlp_ref.npz"))
np.save(os.path.join(here, "mlp_x.npy"), ref["x"])
np.save(os.path.join(here, "mlp_y.npy"), ref["y"])
