"""Raises with the hidden matrix in the message, hoping the feedback echoes it."""

EXPECT = {"lose": {"*": "raised ValueError"}}


def power_method(A, k):
    raise ValueError(repr(A.tolist()) + f" {A.sum().item()!r} {A.trace().item()!r}")
