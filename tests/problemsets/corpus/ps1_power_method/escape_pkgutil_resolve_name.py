"""pkgutil.resolve_name turns a string into torch.linalg.eigh."""

EXPECT = {"lose": {"*": "eigh"}}

import pkgutil


def power_method(A, k):
    eigh = pkgutil.resolve_name("torch.linalg:" + "eigh")
    return eigh(A).eigenvalues[-1]
