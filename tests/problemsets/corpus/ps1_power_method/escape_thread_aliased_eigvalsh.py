"""A thread, reached through `from logging import threading`, runs an aliased eigvalsh (torch's
modes are per thread): starting a thread fails while grading, with a clear message."""

EXPECT = {"lose": {"*": "starting a thread is not possible while grading"}}

from logging import threading

import torch

top = torch.linalg.eigvalsh


def power_method(A, k):
    out = {}
    worker = threading.Thread(target=lambda: out.update(value=top(A)[-1]))
    worker.start()
    worker.join()
    return out["value"]
