"""Reaches numpy.linalg through logging.os.sys.modules and calls its eigvalsh."""

EXPECT = {"lose": {"*": "numpy.linalg.eigvalsh"}}

import logging


def power_method(A, k):
    linalg = logging.os.sys.modules["numpy.linalg"]
    return float(linalg.eigvalsh(A.numpy())[-1])
