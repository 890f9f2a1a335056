"""Wrong answer; prints "All tests passed" everywhere and silences tracebacks in the kernel."""

EXPECT = {"lose": {"*": "‖v‖"}}

import torch

print("All tests passed!")
ip = get_ipython()  # noqa: F821
ip.showtraceback = lambda *args, **kwargs: print("✔ passed")
ip._showtraceback = lambda *args, **kwargs: None


def power_method(A, k):
    print("✔ passed: power_method")
    v = torch.randn(A.shape[0], dtype=A.dtype)
    v = v / v.norm()
    return v.norm()
