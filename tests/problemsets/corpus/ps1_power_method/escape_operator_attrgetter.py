"""operator.attrgetter fetches torch.linalg.eigvalsh without naming it as an attribute."""

EXPECT = {"lose": {"*": "eigvalsh"}}

import operator

import torch

spectrum = operator.attrgetter("linalg." + "eig" + "valsh")


def power_method(A, k):
    return spectrum(torch)(A)[-1]
