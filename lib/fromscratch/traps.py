"""Runtime traps: which forbidden routines actually ran during a call, whatever reached them.

Why no alias, helper, thread or library escapes (the security argument, in short):

- Every torch op reaches an aten kernel through the dispatcher, and a ``TorchDispatchMode`` on
  the mode stack sees each one (eigen/SVD kernels, the autograd engine's backward pass), however
  the student named the Python function. Modes are per thread, so threads are refused here
  (``refuse_threads``; below Python, the sandbox's seccomp filter makes thread creation fail).
- NumPy's eigen/SVD/least-squares routines all end in ``numpy.linalg._umath_linalg``; SciPy's in
  its ``_flapack``/``_clapack``/``_arpack``/``_propack`` modules, trapped at setup whether or not
  the notebook names SciPy; scikit-learn reaches both through them.
- ``torch.compile`` is replaced by the identity: compiled kernels could skip the dispatcher.
- The course's reference code (``fromscratch``, and ``coursekit`` beyond the grader's own
  modules) is wrapped as it is imported (a ``sys.meta_path`` finder), so ``from ... import f``
  binds the trapped function, whatever route imported it.
- Traps are attributes a student could replace: ``Traps.intact()`` compares every one with the
  object installed at setup, and the caller zeroes the part when they differ (proof, not doubt).
  What Python-level traps cannot see (``ctypes`` into LAPACK, dispatch-key guards from
  ``torch._C``) is named by static analysis, and sent to a person.

Only torch and NumPy are required (SciPy and scikit-learn are trapped when installed). The same
traps run in your own kernel when you call ``fromscratch.check.check()``: ``observe()`` installs
their observing part (the torch modes, NumPy's and SciPy's routes) for one call and removes it
after, so what ``check()`` reports is what grading sees.

Taught in: the problem sets (their Rules cells); the grading sandbox installs ``Traps`` whole.
"""

from __future__ import annotations

import functools
import re
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["API_FAMILIES", "THREAD_MESSAGE", "Traps", "api_routine", "observe", "preimport"]

THREAD_MESSAGE = (
    "starting a thread is not possible while grading: the grader watches each function in the "
    "thread that calls it; do the work in the function itself"
)
SPECTRAL_OP = re.compile(r"eig|svd|lobpcg")
FORWARD_AD_OP = re.compile(r"_make_dual|_unpack_dual")
NORM_NAMES = frozenset({"norm", "matrix_norm", "linalg_norm", "linalg_matrix_norm"})
_MISSING = object()
SCIPY_LAPACK = re.compile(
    r"^[sdcz]?(sy|he|ge|st|sb|hb|gg|sp|hp|pt|bd|hs|tr)\w*(ev|svd|sdd|sdc|sqr|ebz|emr|erf|eqr|eqz"
    r"|els[ds])"
)
SCIPY_PUBLIC = re.compile(
    r"(eig|svd|lobpcg|norm$|pinv|lstsq|null_space|orth$|cossin|qz|ordqz|schur|polar"
    r"|subspace_angles|matrix_norm|svds)"
)
SCIPY_MODULES = ("scipy.linalg", "scipy.sparse.linalg")

# Families of ready-made torch routines that a chapter exercise asks you to write yourself, by
# public name. A name is seen two ways: the torch function mode names every torch routine the
# student's code calls (methods and operators included: ``a @ b`` is ``torch.Tensor.matmul``),
# and plain-Python routines that bypass that mode (``torch.broadcast_shapes``, most of
# ``torch.nn.init``, optimisers' ``step``) are wrapped where they live. ``module.*`` means every
# public function of the module; ``module.*.step`` the ``step`` of every class in it.
_MATMUL = ("matmul", "mm", "bmm", "mv", "addmm", "addmv", "addbmm", "baddbmm", "addr",
           "chain_matmul", "tensordot", "outer", "ger", "cdist")  # fmt: skip
API_FAMILIES: dict[str, tuple[str, ...]] = {
    "strides": ("torch.Tensor.stride", "torch.Tensor.storage_offset"),
    "expand": (
        "torch.Tensor.expand",
        "torch.Tensor.expand_as",
        "torch.Tensor.broadcast_to",
        "torch.broadcast_to",
        "torch.broadcast_tensors",
        "torch.functional.broadcast_tensors",
        "torch.broadcast_shapes",
        "torch.functional.broadcast_shapes",
    ),
    "matmul": (
        *(f"torch.{n}" for n in _MATMUL),
        *(f"torch.Tensor.{n}" for n in _MATMUL),
        "torch.Tensor.__matmul__",
        "torch.Tensor.__rmatmul__",
        "torch.linalg.matmul",
        "torch.linalg.multi_dot",
        "torch.nn.functional.linear",
        "torch.nn.functional.bilinear",
    ),
    "dot": (
        "torch.dot",
        "torch.vdot",
        "torch.inner",
        "torch.linalg.vecdot",
        "torch.Tensor.dot",
        "torch.Tensor.vdot",
        "torch.Tensor.inner",
    ),  # fmt: skip
    "einsum": ("torch.einsum", "torch.functional.einsum"),
    "layers": (
        "torch.nn.functional.linear",
        "torch.nn.functional.relu",
        "torch.nn.functional.relu_",
        "torch.relu",
        "torch.relu_",
        "torch.Tensor.relu",
        "torch.Tensor.relu_",
        "torch.nn.functional.mse_loss",
    ),
    "init": ("torch.nn.init.*",),
    "optim": ("torch.optim.*.step", "torch.optim._functional.*"),
}


def preimport(dynamo: bool = True) -> None:
    """Import what ``Traps.install`` wraps, so a forking parent pays for it only once; and,
    if ``dynamo``, ``torch._dynamo``, which ``torch.optim`` and ``torch.func`` import on first
    use (1.3-1.6 s, more on a loaded machine, counted against a graded call's time limit). It
    costs about 2 s of CPU to import, so a grading worker leaves it out for an assignment whose
    source never calls them (``coursekit.verdicts.sandbox.PRELOAD_IF_USED``)."""
    import numpy.linalg  # noqa: F401

    if dynamo:
        import torch._dynamo  # noqa: F401
    _import_scipy()


def _import_scipy() -> None:
    for name in SCIPY_MODULES:
        try:
            __import__(name)
        except ImportError:
            pass


def _one_column(args: tuple) -> bool:
    """True if the first argument is a matrix with one row or one column: every matrix norm
    of it (2, -2, nuclear) equals its Euclidean vector norm, so the SVD behind it is honest."""
    shape = getattr(args[0], "shape", None) if args else None
    try:
        return shape is not None and len(shape) >= 2 and min(shape[-2:]) == 1
    except TypeError:
        return False


class Traps:
    """The runtime traps of one process. ``findings`` holds [family, text] seen since ``reset``."""

    def __init__(self) -> None:
        self.findings: list[list[str]] = []
        self.callers: list[Any] = []  # public routines currently running (outermost first)
        self.benign = 0  # > 0 while a matrix norm of a one-column matrix runs
        self.active = False  # True while student code runs under the modes
        self.popped: list[str] = []  # mode-stack pops seen while active (proof of tampering)
        self.installed: dict[tuple[int, str], tuple[Any, Any]] = {}  # (id(owner), name) -> ...
        self.originals: dict[tuple[int, str], tuple[Any, Any]] = {}  # what ``put`` replaced
        self.watched: list[tuple[str, Any, dict]] = []  # (label, live __dict__, snapshot)
        self.own_modules: frozenset[str] = frozenset()  # the grader's modules loaded at setup
        self.finder: Any = None
        self._seen_code: set[int] = set()
        self.function_mode, self.dispatch_mode = _modes(self)

    # -- recording -----------------------------------------------------------------------------
    def reset(self) -> None:
        self.findings.clear()
        self.callers.clear()
        self.popped.clear()
        self.benign = 0

    def record(self, family: str, text: str) -> None:
        item = [family, text]
        if item not in self.findings:
            self.findings.append(item)

    def caller(self, default: str = "a torch routine") -> str:
        if not self.callers:
            return default
        first = self.callers[0]
        return first if isinstance(first, str) else _public_name(first)

    # -- installing ----------------------------------------------------------------------------
    def install(self) -> None:
        """Wrap every route (NumPy, SciPy, threads, torch.compile). Idempotent."""
        _trap_numpy(self)
        _trap_scipy(self)
        _trap_api(self)
        _refuse_threads(self)
        _neutralise_compile(self)
        _guard_mode_stacks(self)
        _trap_reference_imports(self)
        from torch.overrides import TorchFunctionMode
        from torch.utils._python_dispatch import TorchDispatchMode

        for cls in (Traps, type(self.function_mode), type(self.dispatch_mode), TorchFunctionMode,
                    TorchDispatchMode):  # fmt: skip
            self.watch(cls)
        self.watch(sys.modules[__name__])

    def watch(self, owner: Any) -> None:
        """Remember every attribute of a module or class (and, for a module, of its classes):
        ``intact`` reports any later change as tampering."""
        live = owner.__dict__
        self.watched.append((getattr(owner, "__name__", "?"), live, dict(live)))
        if isinstance(owner, type):
            return
        for value in list(live.values()):
            if isinstance(value, type) and value.__module__ == owner.__name__:
                self.watch(value)

    def put(self, owner: Any, name: str, value: Any) -> None:
        """Install ``value`` as ``owner.name`` and remember it for ``intact``."""
        previous = getattr(owner, "__dict__", {}).get(name, _MISSING)
        try:
            setattr(owner, name, value)
        except (AttributeError, TypeError):
            return
        self.installed[(id(owner), name)] = (owner, value)
        self.originals.setdefault((id(owner), name), (owner, previous))

    def intact(self) -> list[str]:
        """Names of the traps that were removed or replaced since ``install`` (empty = intact)."""
        changed = []
        for (_, name), (owner, value) in self.installed.items():
            if getattr(owner, "__dict__", {}).get(name, _MISSING) is not value:
                changed.append(f"{getattr(owner, '__name__', '?')}.{name}")
        if self.finder is not None and self.finder not in sys.meta_path:
            changed.append("sys.meta_path")
        for label, live, snapshot in self.watched:
            for name, value in snapshot.items():
                if live.get(name, _MISSING) is not value:
                    changed.append(f"{label}.{name}")
        return changed

    def uninstall(self) -> None:
        """Put back every attribute ``put`` replaced (``observe`` ends with this)."""
        for (_, name), (owner, previous) in reversed(self.originals.items()):
            try:
                if previous is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, previous)
            except (AttributeError, TypeError):
                pass
        self.installed.clear()
        self.originals.clear()

    def restore(self) -> None:
        for (_, name), (owner, value) in self.installed.items():
            try:
                setattr(owner, name, value)
            except (AttributeError, TypeError):
                pass


@contextmanager
def observe() -> Iterator[list[list[str]]]:
    """Record the forbidden-family routines that run inside the ``with`` block.

    Yields the findings list, filled as the block runs (``["spectral", "calls
    torch.linalg.eigvalsh (aten::_linalg_eigh)"]``, ``["autograd", ...]``): grading's own torch
    modes and NumPy/SciPy routes, with the same exceptions (a matrix norm of a one-column
    matrix is a vector norm). Installed for the block only, then removed.
    """
    traps = Traps()
    try:
        _trap_numpy(traps)
        _trap_scipy(traps)
        _trap_api(traps)
        traps.active = True
        with traps.function_mode, traps.dispatch_mode:
            yield traps.findings
    finally:
        traps.active = False
        traps.uninstall()


REFERENCE_PACKAGES = ("fromscratch", "coursekit")


def _is_reference(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in REFERENCE_PACKAGES)


def _trap_reference_imports(traps: Traps) -> None:
    """Wrap every function of the course's packages as they are imported (and those already
    imported that are not the grader's own): calling one records "reference"."""
    from importlib.machinery import PathFinder

    traps.own_modules = frozenset(n for n in sys.modules if _is_reference(n))

    class ReferenceFinder:
        @staticmethod
        def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
            if not _is_reference(name) or name in traps.own_modules:
                return None
            spec = PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            loader_exec = spec.loader.exec_module

            def exec_module(module: Any) -> None:
                loader_exec(module)
                _wrap_reference_module(traps, module)

            spec.loader.exec_module = exec_module
            return spec

    traps.finder = ReferenceFinder
    sys.meta_path.insert(0, ReferenceFinder)


def _wrap_reference_module(traps: Traps, module: Any) -> None:
    """Record "reference" when a function, method or class of ``module`` runs during a call."""
    name = module.__name__
    for attr, value in list(vars(module).items()):
        if getattr(value, "__module__", None) != name:
            continue
        if isinstance(value, type):
            for method, function in list(vars(value).items()):
                _wrap_reference(traps, value, method, function, f"{name}.{attr}")
        else:
            _wrap_reference(traps, module, attr, value, f"{name}.{attr}")


def _wrap_reference(traps: Traps, owner: Any, name: str, value: Any, label: str) -> None:
    kind = type(value) if isinstance(value, (staticmethod, classmethod)) else None
    function = value.__func__ if kind else value
    if not isinstance(function, types.FunctionType):
        return

    def reference(*args: Any, **kwargs: Any) -> Any:
        if traps.active:
            traps.record("reference", f"uses {label}")
        return function(*args, **kwargs)

    wrapped = functools.wraps(function)(reference)
    try:
        setattr(owner, name, kind(wrapped) if kind else wrapped)
    except (AttributeError, TypeError):
        pass


# ----------------------------------------------------------------------------- torch modes


def _modes(traps: Traps) -> tuple[Any, Any]:
    """A ``TorchFunctionMode`` that names the public routine the student called, and a
    ``TorchDispatchMode`` that sees every aten op under it."""
    from torch._C import _current_graph_task_id as graph_task_id
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class FunctionNames(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            _classify_api(traps, func, args)
            benign = getattr(func, "__name__", "") in NORM_NAMES and _one_column(args)
            traps.callers.append(func)
            traps.benign += benign
            try:
                return func(*args, **(kwargs or {}))
            finally:
                traps.benign -= benign
                traps.callers.pop()

    class AtenTrap(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls) -> bool:
            return False  # keep __torch_dispatch__ unwrapped: wrapping imports torch._dynamo

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            _classify_aten(traps, func._schema.name, graph_task_id())
            return func(*args, **(kwargs or {}))

    return FunctionNames(), AtenTrap()


def _classify_aten(traps: Traps, op: str, graph_task: int) -> None:
    if SPECTRAL_OP.search(op) and not traps.benign:
        traps.record("spectral", f"calls {traps.caller()} ({op})")
    if graph_task != -1:
        traps.record("autograd", f"calls {traps.caller()} (runs autograd's backward pass)")
    elif FORWARD_AD_OP.search(op):
        traps.record("autograd", f"calls {traps.caller()} (forward-mode autograd)")


_API_NAMES: dict[str, tuple[str, ...]] = {}  # public name -> its families (from API_FAMILIES)
_NAME_OF: dict[int, tuple[Any, str]] = {}  # id(func) -> (func, public name): a small cache


def _api_names() -> dict[str, tuple[str, ...]]:
    if not _API_NAMES:
        for family, names in API_FAMILIES.items():
            for name in names:
                if "*" not in name:
                    _API_NAMES[name] = (*_API_NAMES.get(name, ()), family)
    return _API_NAMES


_API_OBJECTS: dict[int, tuple[Any, str]] = {}  # id(routine) -> (routine, its API name)


def _api_objects() -> dict[int, tuple[Any, str]]:
    """The routines ``API_FAMILIES`` names, by identity: ``torch.overrides.resolve_name`` calls
    some by another name (``torch.mm`` resolves to "torch.spmm"), identity does not."""
    if not _API_OBJECTS:
        import importlib

        for name in _api_names():
            owner, _, attr = name.rpartition(".")
            obj = getattr(_resolve(importlib, owner), attr, None)
            original = getattr(obj, "__coursekit_original__", obj)  # a trap installed now
            for routine in (obj, original):
                if routine is not None:
                    _API_OBJECTS.setdefault(id(routine), (routine, name))
    return _API_OBJECTS


def _classify_api(traps: Traps, func: Any, args: tuple) -> None:
    """Record the API families of the torch routine ``func`` (called by the student's code).
    A matrix product of two vectors (``u @ v``, ``torch.matmul(u, v)``) is a dot product."""
    cached = _NAME_OF.get(id(func))
    if cached is None or cached[0] is not func:
        known = _api_objects().get(id(func))
        cached = (func, known[1] if known and known[0] is func else _public_name(func))
        _NAME_OF[id(func)] = cached
    for family in _api_names().get(cached[1], ()):
        if family == "matmul" and _two_vectors(args):
            family = "dot"
        traps.record(family, f"calls {cached[1]}")


def _two_vectors(args: tuple) -> bool:
    shapes = [getattr(a, "shape", None) for a in args[:2]]
    return len(shapes) == 2 and all(s is not None and len(s) == 1 for s in shapes)


def _public_name(func: Any) -> str:
    try:
        from torch.overrides import resolve_name

        name = resolve_name(func)
        if name:
            return name
    except Exception:  # noqa: BLE001
        pass
    module = getattr(func, "__module__", None) or ""
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or "?"
    if module.startswith("torch._C") or module in ("", "torch._tensor"):
        return f"torch.Tensor.{name.split('.')[-1]}" if "Tensor" in name else f"torch.{name}"
    return f"{module}.{name}"


# ----------------------------------------------------------------------------- wrappers


def _wrap_public(traps: Traps, owner: Any, name: str, label: str) -> None:
    """Name ``label`` as the caller of any kernel that runs under ``owner.name``."""
    original = getattr(owner, name, None)
    if not callable(original) or getattr(original, "__coursekit_trap__", False):
        return
    benign_name = name in NORM_NAMES

    def public(*args: Any, **kwargs: Any) -> Any:
        benign = benign_name and _one_column(args)
        traps.callers.append(label)
        traps.benign += benign
        try:
            return original(*args, **kwargs)
        finally:
            traps.benign -= benign
            traps.callers.pop()

    traps.put(owner, name, _dressed(public, original, name))


def _wrap_kernel(
    traps: Traps, owner: Any, name: str, family: str, default: str, label: str | None = None
) -> None:
    """Record ``family`` whenever the kernel ``owner.name`` runs (unless a benign norm); the
    finding names ``label`` if given, else the public routine that reached the kernel."""
    original = getattr(owner, name, None)
    if not callable(original) or getattr(original, "__coursekit_trap__", False):
        return

    def kernel(*args: Any, **kwargs: Any) -> Any:
        if traps.active and label is not None:
            traps.record(family, f"calls {label}")
        elif not traps.benign and label is None:
            traps.record(family, f"calls {traps.caller(default)}")
        return original(*args, **kwargs)

    traps.put(owner, name, _dressed(kernel, original, name))


def _dressed(wrapper: Callable, original: Any, name: str) -> Callable:
    wrapper.__coursekit_trap__ = True  # type: ignore[attr-defined]
    wrapper.__coursekit_original__ = original  # type: ignore[attr-defined]
    if getattr(original, "hooked", False):  # an optimiser's step: torch must not wrap it again
        wrapper.hooked = True  # type: ignore[attr-defined]
    wrapper.__name__ = getattr(original, "__name__", name)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    return wrapper


def _trap_numpy(traps: Traps) -> None:
    """Every NumPy eigen/SVD/least-squares route ends in ``numpy.linalg._umath_linalg``."""
    import numpy.linalg

    umath = numpy.linalg._umath_linalg
    for name in dir(umath):
        if re.match(r"(eig|svd|lstsq)", name):
            _wrap_kernel(traps, umath, name, "spectral", "numpy.linalg")
    for name in getattr(numpy.linalg, "__all__", []):
        _wrap_public(traps, numpy.linalg, name, f"numpy.linalg.{name}")


def _trap_scipy(traps: Traps) -> None:
    """SciPy's LAPACK/ARPACK/PROPACK wrappers (kernels) and public linalg names (labels)."""
    _import_scipy()
    for modname in sorted(sys.modules):
        if modname.startswith(("scipy.linalg", "scipy.sparse.linalg")):
            _trap_scipy_module(traps, modname, sys.modules[modname])


def _trap_scipy_module(traps: Traps, modname: str, module: Any) -> None:
    kernels = modname.endswith(("_flapack", "_clapack", "_arpack", "_propack"))
    whole = modname.endswith(("_arpack", "_propack"))
    for name in list(getattr(module, "__dict__", {})):
        if kernels and (whole or SCIPY_LAPACK.match(name)):
            _wrap_kernel(traps, module, name, "spectral", f"{modname} LAPACK")
        elif not kernels and SCIPY_PUBLIC.match(name):
            _wrap_public(traps, module, name, f"{modname}.{name}")


def api_routine(value: Any) -> tuple[str, tuple[str, ...]] | None:
    """(API name, families) if ``value`` is a routine ``API_FAMILIES`` names (or its trap)."""
    known = _api_objects().get(id(value))
    if known is None or known[0] is not value:
        return None
    return known[1], _api_names()[known[1]]


def _trap_api(traps: Traps) -> None:
    """Wrap the plain-Python routines of ``API_FAMILIES`` (the torch function mode does not see
    them) where they live: calling one records its family."""
    import importlib

    for family, names in API_FAMILIES.items():
        for name in names:
            for owner, attr, label in _api_targets(importlib, name):
                _hook_optimizer_step(owner, attr)
                home = sys.modules.get(getattr(getattr(owner, attr), "__module__", "") or "")
                _wrap_kernel(traps, owner, attr, family, label, label=label)
                if home is not None and home is not owner and attr in vars(home):
                    # the module that defines it too: ``torch.optim.adam.adam`` is
                    # ``torch.optim._functional.adam``
                    _wrap_kernel(traps, home, attr, family, label, label=label)


def _hook_optimizer_step(owner: Any, attr: str) -> None:
    """torch wraps an optimiser class's ``step`` in its profiling hook the first time the class
    is instantiated (``Optimizer._patch_step_function``), unless the ``step`` it finds says
    ``hooked``. Do that wrapping now, so that the trap goes around the hooked ``step`` (it carries
    ``hooked`` on), and torch's own patching is not mistaken for tampering."""
    optimizer = getattr(sys.modules.get("torch.optim"), "Optimizer", None)
    if optimizer is None or attr != "step" or not isinstance(owner, type):
        return
    if not issubclass(owner, optimizer) or getattr(owner.step, "hooked", False):
        return
    owner.step = optimizer.profile_hook_step(owner.step)
    owner.step.hooked = True


def _api_targets(importlib: Any, name: str) -> Iterator[tuple[Any, str, str]]:
    """(owner, attribute, public name) for each plain-Python function ``name`` denotes."""
    parts = name.split(".")
    star = parts.index("*") if "*" in parts else len(parts)
    base = ".".join(parts[:star])
    owner = _resolve(importlib, base)
    if owner is None:
        return
    if star == len(parts):  # one named routine
        owner_name, attr = base.rpartition(".")[0], parts[-1]
        holder = _resolve(importlib, owner_name)
        if isinstance(getattr(holder, attr, None), types.FunctionType):
            yield holder, attr, name
        return
    rest = parts[star + 1 :]
    for attr, value in list(vars(owner).items()):
        if attr.startswith("_") and not rest:
            continue
        if not rest and isinstance(value, types.FunctionType):
            yield owner, attr, f"{base}.{attr}"
        elif rest and isinstance(value, type) and isinstance(vars(value).get(rest[0]),
                                                             types.FunctionType):  # fmt: skip
            yield value, rest[0], f"{base}.{attr}.{rest[0]}"


def _resolve(importlib: Any, dotted: str) -> Any:
    """The object ``dotted`` names: its longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            owner = getattr(owner, attr, None)
        return owner
    return None


def _refuse_threads(traps: Traps) -> None:
    """Modes are per thread: a thread would run unobserved, so starting one is refused."""
    import _thread
    import threading

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(THREAD_MESSAGE)

    for owner, name in ((_thread, "start_new_thread"), (_thread, "start_joinable_thread"),
                        (threading, "_start_new_thread"), (threading, "_start_joinable_thread"),
                        (_thread, "start_new")):  # fmt: skip
        if hasattr(owner, name):
            traps.put(owner, name, _dressed(refuse, getattr(owner, name), name))


def _guard_mode_stacks(traps: Traps) -> None:
    """Taking the dispatch mode off torch's stack during a call (and putting it back before the
    call returns) would hide the kernels that run meanwhile: the Python routes to that pop are
    watched. (torch pops the *function* mode itself for every Python-level torch function; that
    mode only names routines, so its pops are harmless.)"""
    import torch
    import torch.utils._python_dispatch as python_dispatch

    name = "_pop_torch_dispatch_stack"
    original = getattr(torch._C, name)

    def pop(*args: Any, **kwargs: Any) -> Any:
        if traps.active:
            traps.popped.append("took the grader's torch dispatch mode off the stack while it ran")
        return original(*args, **kwargs)

    wrapper = _dressed(pop, original, name)
    for owner in (torch._C, python_dispatch):
        if getattr(owner, name, None) is original:
            traps.put(owner, name, wrapper)


def _neutralise_compile(traps: Traps) -> None:
    """``torch.compile(f)`` returns ``f``: same results, and every op still meets the modes."""
    import torch

    def compile(model: Any = None, **kwargs: Any) -> Any:  # noqa: A001
        return model if model is not None else (lambda f: f)

    traps.put(torch, "compile", _dressed(compile, torch.compile, "compile"))
