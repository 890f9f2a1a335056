"""Static analysis of a student's code: shortcuts and tampering, named in the student's terms.

``analyze(cells, functions)`` parses every code cell with ``ast`` and reports:

- per graded function, findings tagged with a family from ``shortcuts.FAMILIES``: the
  function's own body and every top-level helper it uses (transitively) are scanned, with import
  aliases and simple assignments resolved (``from torch.linalg import eigvalsh as ev`` then
  ``ev(A)`` reads "calls torch.linalg.eigvalsh");
- globally, "tampering": constructs that could hide a shortcut from this analysis or from the
  sandbox's runtime traps, or forge the sandbox's replies (``eval``, ``__import__``, frame and
  closure introspection, ``gc``, ``ctypes``, ``sys.modules``, ``torch._C``, dispatch modes,
  low-level ``os`` file-descriptor calls, ...).

Harmless tampering is NOT reported here: redefining ``torch.allclose``, ``math.isclose``,
``abs``, printing "All tests passed", ``sys.exit()``, ``os._exit()``: the verdicts are computed
outside the student's kernel, so these change nothing, and the work is graded on its merits.

Norms are left to the runtime traps: ``torch.linalg.norm(x, 2)`` is the Euclidean norm of a
vector (legitimate in the power method) but the spectral norm of a matrix; only the runtime sees
which one ran (a singular-value kernel shows up).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["StaticReport", "analyze"]

SPECTRAL_NAMES = frozenset(
    {
        "eig", "eigh", "eigvals", "eigvalsh", "svd", "svdvals", "symeig", "lobpcg",
        "svd_lowrank", "pca_lowrank", "eigs", "eigsh", "svds", "eig_banded", "eigvals_banded",
        "eigh_tridiagonal", "eigvalsh_tridiagonal",
    }
)  # fmt: skip
SPECTRAL_DOTTED = re.compile(
    r"^(torch(\.linalg)?\.(cond|matrix_rank|pinv)"
    r"|numpy\.linalg\.(cond|matrix_rank|pinv|lstsq)"
    r"|scipy\..*\.(pinv|pinvh|lstsq|null_space|orth|cossin|qz|ordqz|schur|polar|subspace_angles)"
    r"|scipy\..*lapack.*)$"
)
AUTOGRAD_NAMES = frozenset(
    {
        "backward", "autograd", "requires_grad", "requires_grad_", "retain_grad", "enable_grad",
        "grad_fn", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "jacobian", "forward_ad",
        "make_dual", "unpack_dual", "functorch", "vmap_grad",
    }
)  # fmt: skip
REFERENCE_ROOTS = ("fromscratch", "coursekit")

TAMPER_CALLS = frozenset(
    {"eval", "exec", "compile", "__import__", "globals", "locals", "vars", "breakpoint"}
)
TAMPER_MODULES = frozenset(
    {
        "importlib", "ctypes", "gc", "inspect", "builtins", "marshal", "threading", "_thread",
        "multiprocessing", "concurrent", "asyncio", "subprocess", "signal", "socket", "pty",
        "faulthandler", "resource", "posix", "nt", "_posixsubprocess", "mmap", "code", "codeop",
        "runpy", "pickle", "_pickle", "dill", "shelve", "copyreg", "cffi", "sysconfig", "site",
        "coursekit", "_io", "io", "types", "weakref", "functorch._C", "torch._C",
        "torch.utils._python_dispatch", "torch._dynamo", "torch.overrides",
        "torch.multiprocessing", "torch.distributed", "torch.utils.cpp_extension",
        "torch.library", "torch.jit", "pathlib", "shutil", "tempfile", "sqlite3",
    }
)  # fmt: skip
TAMPER_ATTRS = frozenset(
    {
        "__closure__", "__code__", "__globals__", "__builtins__", "__dict__", "__wrapped__",
        "__subclasses__", "__mro__", "__bases__", "__base__", "__self__", "__func__",
        "__traceback__", "__kwdefaults__", "__defaults__", "__reduce__", "__reduce_ex__",
        "__import__", "__loader__", "__spec__", "__getattribute__", "__torch_function__",
        "__torch_dispatch__", "f_back", "f_locals", "f_globals", "f_builtins", "f_code",
        "tb_frame", "tb_next", "gi_frame", "gi_code", "cr_frame", "ag_frame", "co_code",
        "co_consts", "cell_contents", "_C", "_python_dispatch", "TorchFunctionMode",
        "TorchDispatchMode", "_disable_current_modes", "_DisableTorchDispatch",
        "DisableTorchFunction", "DisableTorchFunctionSubclass", "_execution_engine",
        "run_backward", "_getframe", "_current_frames", "settrace", "setprofile", "meta_path",
        "path_hooks", "path_importer_cache", "addaudithook", "modules",
    }
)  # fmt: skip
TAMPER_OS_ATTRS = frozenset(
    {
        "write", "writev", "pwrite", "read", "readv", "pread", "dup", "dup2", "fdopen", "open",
        "pipe", "pipe2", "close", "closerange", "sendfile", "splice", "fork", "forkpty", "system",
        "popen", "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp", "execvpe",
        "spawnv", "spawnve", "spawnl", "spawnle", "posix_spawn", "posix_spawnp", "set_blocking",
    }
)  # fmt: skip


@dataclass
class StaticReport:
    """What static analysis found. ``findings(f)`` feeds ``Student.shortcuts(f)``."""

    per_function: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    tampering: list[str] = field(default_factory=list)
    mentions_scipy: bool = False
    syntax_errors: list[str] = field(default_factory=list)

    def findings(self, function: str) -> list[tuple[str, str]]:
        """(family, text) pairs for ``function``, plus the global tampering findings."""
        return list(self.per_function.get(function, [])) + [
            ("tampering", text) for text in self.tampering
        ]


def analyze(cells: Sequence[str], functions: Iterable[str]) -> StaticReport:
    """Analyse the student's code cells (in notebook order) for the graded ``functions``."""
    report = StaticReport(mentions_scipy=any("scipy" in c for c in cells))
    trees = []
    for index, source in enumerate(cells):
        try:
            trees.append(ast.parse(source))
        except (SyntaxError, ValueError) as exc:
            report.syntax_errors.append(f"cell {index + 1}: {exc.__class__.__name__}")
    aliases, defs = _bindings(trees)
    for tree in trees:
        for text in _tampering(tree, aliases):
            if text not in report.tampering:
                report.tampering.append(text)
    for function in functions:
        if function in defs:
            report.per_function[function] = _function_findings(function, defs, aliases)
    return report


# ----------------------------------------------------------------------------- bindings


def _bindings(trees: list[ast.Module]) -> tuple[dict[str, str], dict[str, ast.AST]]:
    """Import aliases / dotted assignments (name -> dotted path) and top-level definitions."""
    aliases: dict[str, str] = {}
    defs: dict[str, ast.AST] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".")[0]
                        aliases[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in _top_level(tree.body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[node.name] = node
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    if isinstance(node.value, ast.Lambda):
                        defs[target.id] = node.value
                    else:
                        path = _dotted(node.value, aliases)
                        if path:
                            aliases[target.id] = path
    return aliases, defs


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements executed at module level, looking inside if/try/with/for blocks."""
    for node in body:
        yield node
        for attr in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, attr, None)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                break
            if isinstance(inner, list):
                for item in inner:
                    if isinstance(item, ast.ExceptHandler):
                        yield from _top_level(item.body)
                    elif isinstance(item, ast.stmt):
                        yield from _top_level([item])


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """'torch.linalg.eigvalsh' for an attribute chain whose root name is a known import."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    root = aliases.get(node.id)
    if root is None:
        if node.id in ("torch", "numpy", "scipy", "fromscratch", "coursekit", "os", "sys"):
            root = node.id
        else:
            return None
    return ".".join([root, *reversed(parts)])


# ----------------------------------------------------------------------------- functions


def _reachable(function: str, defs: dict[str, ast.AST]) -> list[ast.AST]:
    """The function's definition plus every top-level helper it uses, transitively."""
    seen, order, todo = set(), [], [function]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        node = defs[name]
        order.append(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in defs and sub.id not in seen:
                todo.append(sub.id)
    return order


def _function_findings(
    function: str, defs: dict[str, ast.AST], aliases: dict[str, str]
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def add(family: str, text: str) -> None:
        if (family, text) not in found:
            found.append((family, text))

    for node in _reachable(function, defs):
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Attribute, ast.Name)):
                path = _dotted(sub, aliases)
                if path and isinstance(sub, ast.Name) and path == sub.id:
                    path = None  # a plain name that is not an import alias
                _classify_path(path, add)
                if isinstance(sub, ast.Attribute) and not path:
                    # a method on some object (e.g. A.svd()): the name alone tells
                    if sub.attr in SPECTRAL_NAMES:
                        add("spectral", f"calls .{sub.attr}()")
                    if sub.attr in AUTOGRAD_NAMES or sub.attr == "grad":
                        add("autograd", f"uses .{sub.attr}")
            elif isinstance(sub, ast.keyword) and sub.arg == "requires_grad":
                add("autograd", "uses requires_grad=")
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                if sub.value in SPECTRAL_NAMES:
                    add("spectral", f"refers to {sub.value!r}")
    return found


def _classify_path(path: str | None, add) -> None:
    if not path:
        return
    last = path.rsplit(".", 1)[-1]
    root = path.split(".", 1)[0]
    if root in REFERENCE_ROOTS:
        add("reference", f"uses {path}")
    if root in ("torch", "numpy", "scipy") and (
        last in SPECTRAL_NAMES or SPECTRAL_DOTTED.match(path)
    ):
        add("spectral", f"calls {path}")
    if root == "torch" and (
        ".autograd" in path or path.startswith("torch.func") or last in AUTOGRAD_NAMES
    ):
        add("autograd", f"uses {path}")


# ----------------------------------------------------------------------------- tampering


def _tampering(tree: ast.Module, aliases: dict[str, str]) -> list[str]:
    found: list[str] = []

    def add(text: str) -> None:
        if text not in found:
            found.append(text)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _check_module(alias.name, add)
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.level == 0:
                _check_module(node.module, add)
                for alias in node.names:
                    _check_module(f"{node.module}.{alias.name}", add)
                    if alias.name in TAMPER_ATTRS or alias.name in TAMPER_CALLS:
                        add(f"imports {alias.name} from {node.module}")
        elif isinstance(node, ast.Name):
            if node.id in TAMPER_CALLS:
                add(f"uses {node.id}()")
            elif node.id == "__builtins__":
                add("uses __builtins__")
        elif isinstance(node, ast.Attribute):
            path = _dotted(node, aliases) or ""
            if node.attr in TAMPER_ATTRS and not _harmless_attr(node, path):
                add(f"uses {path or '.' + node.attr}")
            elif path.startswith("os.") and node.attr in TAMPER_OS_ATTRS:
                add(f"uses {path}")
            elif (path.startswith("os.") or path.startswith("sys.")) and node.attr.startswith("_"):
                if path not in ("os._exit",):
                    add(f"uses {path}")
            elif path.startswith("torch.") and re.search(r"\._[A-Za-z]", path):
                add(f"uses torch internals ({path})")
            elif path in ("torch.compile", "torch.jit", "torch.library") or path.startswith(
                ("torch.jit.", "torch.library.", "torch.multiprocessing", "torch.distributed")
            ):
                add(f"uses {path}")
            if node.attr == "__class__" and isinstance(node.ctx, ast.Store):
                add("assigns to __class__")
        elif isinstance(node, ast.Call):
            _check_call(node, aliases, add)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "/proc/" in node.value or "/dev/fd" in node.value or node.value == "/proc":
                add(f"refers to {node.value[:40]!r}")
    return found


def _check_module(name: str, add) -> None:
    for banned in TAMPER_MODULES:
        if name == banned or name.startswith(banned + "."):
            add(f"imports {name}")
            return
    if re.search(r"(^|\.)_", name) and not name.startswith("__future__"):
        add(f"imports {name}")


def _harmless_attr(node: ast.Attribute, path: str) -> bool:
    # `torch.nn.modules`-style paths are fine; only sys.modules is dangerous.
    if node.attr == "modules":
        return path != "sys.modules"
    return False


def _check_call(node: ast.Call, aliases: dict[str, str], add) -> None:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else None
    if name in ("getattr", "setattr", "delattr", "hasattr") and len(node.args) >= 2:
        attr = node.args[1]
        if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
            add(f"uses {name} with a computed attribute name")
        elif attr.value in TAMPER_ATTRS or attr.value in TAMPER_CALLS:
            add(f"uses {name}(..., {attr.value!r})")
    if name == "open" and node.args:
        target = node.args[0]
        if not (isinstance(target, ast.Constant) and isinstance(target.value, str)):
            add("uses open() on a computed path or a file descriptor")
        elif target.value.startswith(("/proc", "/dev")):
            add(f"opens {target.value}")
        mode = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "mode":
                mode = keyword.value
        if mode is not None and not (
            isinstance(mode, ast.Constant) and isinstance(mode.value, str)
            and not set(mode.value) & set("wax+")
        ):  # fmt: skip
            add("opens a file for writing (the problem sets need no files)")
