"""The sandbox child's side of a reply: plain data only, and the observed run that produces it.

Used by ``sandbox_child`` after its setup and before any student code runs. Every function the
server needs later is bound here at that trusted moment (``Encoder`` keeps the pristine
references it uses: a student may patch ``torch.Tensor.tolist``, ``isinstance`` or ``repr``
afterwards), and ``Traps.watch_module`` makes any later change to this module or its classes a
proven tamper.

``encode`` turns a value into JSON-able plain data (see ``sandbox.decode``), ``describe_error``
an exception into {type, message, where}, ``observed_call`` / ``observed_exec`` run student code
under the traps and report what they saw, and ``StudentNamespace`` is the namespace the cells
run in: ``get_ipython()`` with ``%%writefile`` / ``%run`` / ``%%time``, and a ``display`` that
does nothing.
"""

from __future__ import annotations

import ast
import builtins
import os

# Pristine builtins as module globals: student code may patch the builtins module.
from builtins import (  # noqa: UP029
    BaseException,
    bool,
    callable,
    compile,
    complex,
    dict,
    exec,
    float,
    int,
    list,
    open,
    range,
    str,
    tuple,
)
from collections.abc import Callable
from typing import Any

from fromscratch.traps import THREAD_MESSAGE, Traps

__all__ = ["Encoder", "Unreadable", "observed_call", "observed_exec", "student_namespace"]

MAX_ITEMS = 200_000  # elements per encoded tensor / array / list
MAX_DEPTH = 6
MAX_TEXT = 600
_PLAIN_DTYPES = (
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int8", "int16",
    "int32", "int64", "uint8", "bool",
)  # fmt: skip


class Unreadable(Exception):
    """The value is not plain data; the message names what it was."""


class Encoder:
    """Plain data from student values, through references bound at construction time."""

    def __init__(self) -> None:
        import traceback

        import numpy
        import torch

        base = torch._C.TensorBase
        self.torch, self.numpy = torch, numpy
        self.tensor_types = (torch.Tensor, torch.nn.Parameter)
        self.base = base
        self.tolist, self.detach, self.numel = base.tolist, base.detach, base.numel
        self.dtype, self.shape = base.dtype.__get__, base.shape.__get__
        self.layout, self.device = base.layout.__get__, base.device.__get__
        self.requires_grad, self.grad = base.requires_grad.__get__, base.grad.__get__
        self.resolve = lambda x: base.resolve_neg(base.resolve_conj(x))
        self.is_complex, self.real, self.imag = base.is_complex, torch.real, torch.imag
        self.no_subclass = torch._C.DisableTorchFunctionSubclass
        self.dtypes = {getattr(torch, name) for name in _PLAIN_DTYPES}
        self.ndarray, self.np_generic = numpy.ndarray, numpy.generic
        self.nd_tolist, self.np_item = numpy.ndarray.tolist, numpy.generic.item
        self.float_repr, self.int_repr, self.str_str = float.__repr__, int.__repr__, str.__str__
        self.exc_str, self.extract_tb = BaseException.__str__, traceback.extract_tb
        self.type_name = type.__dict__["__qualname__"].__get__
        self.isinstance, self.type, self.len = builtins.isinstance, builtins.type, builtins.len

    def cap(self, text: Any) -> str:
        text = self.str_str(text) if self.isinstance(text, str) else "?"
        return text if self.len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"

    def value(self, x: Any, depth: int = 0) -> dict:
        if depth > MAX_DEPTH:
            raise Unreadable("a structure nested too deeply")
        kind = self.type(x)
        if x is None:
            return {"kind": "none"}
        if kind is bool:
            return {"kind": "bool", "value": x is True}
        if kind in self.tensor_types:
            return self.tensor(x)
        if self.isinstance(x, self.base):
            name = self.cap(self.type_name(kind))
            raise Unreadable(f"an object of type {name} (a subclass of torch.Tensor)")
        if self.isinstance(x, (float, int, complex, str)):
            return self.scalar(x)
        if kind is self.ndarray:
            return self.array(x)
        if self.isinstance(x, self.np_generic):
            item = self.np_item(x)
            return self.value(item, depth + 1) | {"numpy": self.str_str(x.dtype.name)}
        if self.isinstance(x, (tuple, list)):
            return self.sequence(x, depth)
        if self.isinstance(x, dict):
            return self.mapping(x, depth)
        raise Unreadable(f"an object of type {self.cap(self.type_name(kind))}")

    def scalar(self, x: float | int | complex | str) -> dict:
        if self.isinstance(x, float):
            return {"kind": "float", "value": self.float_repr(x)}
        if self.isinstance(x, int):
            text = self.int_repr(x)
            if self.len(text) > 400:
                raise Unreadable("an integer too large to grade")
            return {"kind": "int", "value": text}
        if self.isinstance(x, complex):
            real, imag = complex.real.__get__(x), complex.imag.__get__(x)
            return {"kind": "complex", "real": self.float_repr(real), "imag": self.float_repr(imag)}
        return {"kind": "str", "value": self.cap(x)}

    def tensor(self, x: Any) -> dict:
        with self.no_subclass():
            if self.layout(x) is not self.torch.strided:
                raise Unreadable("a sparse or non-strided tensor")
            if self.str_str(self.device(x).type) != "cpu":
                raise Unreadable("a tensor that is not on the CPU")
            dtype = self.dtype(x)
            if dtype not in self.dtypes:
                raise Unreadable(f"a tensor of dtype {dtype}")
            if self.numel(x) > MAX_ITEMS:
                raise Unreadable(f"a tensor with {self.numel(x)} elements (too large to grade)")
            plain = self.resolve(self.detach(x))
            out = {"kind": "tensor", "dtype": f"torch.{str(dtype).split('.')[-1]}",
                   "shape": [int(s) for s in self.shape(plain)],
                   "requires_grad": bool(self.requires_grad(x))}  # fmt: skip
            if self.is_complex(plain):
                out["real"] = self.tolist(self.real(plain))
                out["imag"] = self.tolist(self.imag(plain))
            else:
                out["data"] = self.tolist(plain)
            grad = self.grad(x)
            if grad is not None and self.type(grad) in self.tensor_types:
                out["grad"] = self.tensor(grad)
            return out

    def array(self, x: Any) -> dict:
        if x.size > MAX_ITEMS or x.dtype.kind not in "biufc":
            raise Unreadable("a NumPy array that cannot be graded")
        out = {"kind": "ndarray", "dtype": self.str_str(x.dtype.name), "shape": list(x.shape)}
        if x.dtype.kind == "c":
            out["real"], out["imag"] = self.nd_tolist(x.real), self.nd_tolist(x.imag)
        else:
            out["data"] = self.nd_tolist(x)
        return out

    def sequence(self, x: tuple | list, depth: int) -> dict:
        is_tuple = self.isinstance(x, tuple)
        size = tuple.__len__(x) if is_tuple else list.__len__(x)
        if size > MAX_ITEMS:
            raise Unreadable("a sequence too long to grade")
        getitem = tuple.__getitem__ if is_tuple else list.__getitem__
        items = [self.value(getitem(x, i), depth + 1) for i in range(size)]
        return {"kind": "tuple" if is_tuple else "list", "items": items}

    def mapping(self, x: dict, depth: int) -> dict:
        pairs = []
        for key, item in dict.items(x):
            if self.type(key) is not str:
                raise Unreadable("a dict whose keys are not strings")
            pairs.append([self.str_str(key), self.value(item, depth + 1)])
        return {"kind": "dict", "items": pairs}

    def error(self, exc: BaseException) -> dict:
        """{type, message, where} of a student exception (the parent shortens and scrubs it)."""
        try:
            message = self.cap(self.exc_str(exc))
        except BaseException:  # noqa: BLE001  (a rigged exception must not stop the server)
            message = ""
        if message.startswith("can't start new thread"):
            message = THREAD_MESSAGE
        return {"type": self.cap(self.type_name(self.type(exc))), "message": message,
                "where": self.where(exc)}  # fmt: skip

    def where(self, exc: BaseException) -> str:
        try:
            frames = self.extract_tb(exc.__traceback__)
            frames = [f for f in frames if f.filename.startswith("<cell")]
            if not frames:
                return ""
            last = frames[-1]
            where = f"{last.filename[1:-1]}, line {last.lineno}"
            return where + (f": {self.cap(last.line.strip())}" if last.line else "")
        except BaseException:  # noqa: BLE001
            return ""


# ----------------------------------------------------------------------------- observed runs


class Observer:
    """Runs student code under the traps: torch modes on, fixed seeds."""

    def __init__(self, traps: Traps, encoder: Encoder) -> None:
        import random

        import numpy
        import torch

        self.traps, self.encoder = traps, encoder
        self.seeds = (torch.manual_seed, numpy.random.seed, random.seed)
        self.fn_stack = torch._C._len_torch_function_stack
        self.dispatch_stack = torch._C._len_torch_dispatch_stack
        self.compile, self.module = builtins.compile, ast.Module

    def run(self, thunk: Callable[[], Any]) -> tuple[Any, dict | None, str]:
        """(value, error, tampered): tampered names what changed the observation, or ""."""
        traps, value, error = self.traps, None, None
        traps.reset()
        for seed in self.seeds:
            seed(0)
        try:
            with traps.function_mode, traps.dispatch_mode:
                traps.active = True
                try:
                    value = thunk()
                finally:
                    traps.active = False
        except BaseException as exc:  # noqa: BLE001
            error = self.encoder.error(exc)
        return value, error, self.tampered()

    def tampered(self) -> str:
        if self.traps.popped:
            return self.traps.popped[0]
        if self.fn_stack() != 0 or self.dispatch_stack() != 0:
            return "changed torch's function or dispatch mode stack"
        changed = self.traps.intact()
        if changed:
            return f"replaced {', '.join(changed[:3])}, which the grader uses to observe it"
        return ""

    def cell_code(self, request: dict) -> Any:
        """The code of a whole cell, or of one top-level statement of it (``stmt``)."""
        source, filename = request["source"], request["filename"]
        stmt = request.get("stmt")
        if stmt is None:
            return self.compile(source, filename, "exec")
        tree = self.compile(source, filename, "exec", ast.PyCF_ONLY_AST)
        return self.compile(self.module(body=[tree.body[stmt]], type_ignores=[]), filename, "exec")


def observed_exec(observer: Observer, namespace: dict, request: dict) -> dict:
    """Run a cell (or one statement of it). A change to the traps is undone and reported."""
    value, error, tampered = observer.run(lambda: exec(observer.cell_code(request), namespace))
    reply: dict = {"ok": True}
    if tampered:
        observer.traps.restore()
        reply["tampered"] = tampered
    if error is not None:
        reply["error"] = error
    return reply


def observed_call(observer: Observer, namespace: dict, request: dict) -> dict:
    """Call a graded function; encode its result (and arguments) while still observed."""
    encoder = observer.encoder
    name, args = request["name"], request["args"]

    driver = _driver(request.get("driver"))

    def call() -> Any:
        func = namespace.get(name)
        if not callable(func):
            raise NameError(f"name {name!r} is not defined")
        if driver is not None:  # the grader's code exercises a class: drive(Value, *args)
            result = driver(func, *args, **request["kwargs"])
        else:
            result = func(*args, **request["kwargs"])
        try:
            encoded = {"value": encoder.value(result)}
            if request.get("return_args"):
                encoded["args"] = encoder.value(tuple(args))
        except Unreadable as exc:
            encoded = {"unreadable": encoder.cap(encoder.exc_str(exc))}
        except BaseException as exc:  # noqa: BLE001
            encoded = {"unreadable": f"an object the grader could not read "
                                     f"({encoder.error(exc)['type']})"}  # fmt: skip
        return encoded

    encoded, error, tampered = observer.run(call)
    if tampered:
        return {"ok": True, "tampered": tampered}
    reply = {"ok": True, "findings": [list(f) for f in observer.traps.findings]}
    if error is not None:
        reply["error"] = error
    else:
        reply.update(encoded)
    return reply


def _driver(source: str | None) -> Callable[..., Any] | None:
    """The grader's ``drive(target, *args)`` from its source (defined outside the student's
    namespace): it exercises a graded class (build a ``Value`` graph, call ``backward``, return
    the gradients as plain values) and runs observed, like a graded call."""
    if not source:
        return None
    scope: dict[str, Any] = {"__name__": "coursekit_driver"}
    exec(compile(source, "<grader driver>", "exec"), scope)  # noqa: S102 (the grader's own code)
    return scope["drive"]


# ----------------------------------------------------------------------------- the namespace


class IPythonStub:
    """What ``get_ipython()`` returns: ``%%writefile`` writes in the sandbox's own folder,
    ``%run file.py`` runs it in the namespace, ``%%time``-like cell magics run their body, and
    every other magic does nothing."""

    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace

    def run_cell_magic(self, name: str, line: str, cell: str) -> None:
        if name in ("time", "capture", "timeit", "prun"):
            exec(compile(cell, "<cell magic>", "exec"), self.namespace)
        elif name in ("writefile", "file"):
            append = "-a" in line.split()
            path = [w for w in line.split() if not w.startswith("-")][-1]
            with open(os.path.basename(path), "a" if append else "w", encoding="utf-8") as f:
                f.write(cell if cell.endswith("\n") else cell + "\n")

    def run_line_magic(self, name: str, line: str) -> None:
        if name == "run":
            words = [w for w in line.split() if not w.startswith("-")]
            if words:
                path = os.path.basename(words[0])
                with open(path, encoding="utf-8") as f:
                    source = f.read()
                exec(compile(source, f"<cell %run {path}>", "exec"), self.namespace)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def student_namespace() -> dict:
    """The globals the student's cells run in, as in a notebook's ``__main__``."""
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    stub = IPythonStub(namespace)
    namespace["get_ipython"] = lambda: stub
    namespace["display"] = lambda *objects, **kwargs: None
    return namespace
