"""Static analysis of a student's code: evidence for a person, never a verdict by itself.

``analyze(cells, functions)`` parses every code cell with ``ast`` and reports two kinds of
evidence. Neither costs a point: a part loses points for a forbidden routine only when the
sandbox's runtime traps saw that routine run during the graded call (``sandbox_child``). When
static analysis sees something the runtime did not confirm, the part is graded on its numbers and
its verdict asks a person to look (``Verdict.review``).

- per graded function, forbidden routines *reachable* from it, tagged with a family from
  ``shortcuts.FAMILIES`` ("spectral", "reference"): its own body and every top-level helper it
  uses (transitively, respecting local names that shadow a helper), with import aliases and
  simple assignments resolved (``from torch.linalg import eigvalsh as ev`` then ``ev(A)`` reads
  "calls torch.linalg.eigvalsh"). Autograd is not looked for here: it is detected at runtime only
  (the engine's backward pass shows up), so layer classes with a ``backward`` method,
  ``requires_grad`` reads and ``no_grad`` blocks are plain code.
- notebook-wide, "suspicious" constructs: the few that could hide a routine from the runtime
  traps or reach the grader's own state (frame and closure introspection, ``gc`` object walks,
  ``ctypes``, ``sys.modules``, torch internals and dispatch-mode control, code built from strings,
  lookups by computed name or through ``operator.attrgetter`` / ``pkgutil.resolve_name`` /
  an alias of ``getattr``, low-level file-descriptor writes).

Ordinary Python is never suspicious: ``import gc, io, inspect, pickle, pathlib, types``,
``open("losses.csv", "w")``, ``setattr`` in a loop, ``globals()``, ``vars(obj)``, ``breakpoint()``,
``torch.compile``; nor is redefining ``torch.allclose``, ``abs`` or printing "All tests passed"
(the verdicts are computed outside the student's kernel).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["StaticReport", "analyze"]

SPECTRAL_NAMES = frozenset(
    {
        "eig", "eigh", "eigvals", "eigvalsh", "svd", "svdvals", "symeig", "lobpcg",
        "svd_lowrank", "pca_lowrank", "eigs", "eigsh", "svds", "eig_banded", "eigvals_banded",
        "eigh_tridiagonal", "eigvalsh_tridiagonal", "randomized_svd",
    }
)  # fmt: skip
SPECTRAL_DOTTED = re.compile(
    r"^(torch(\.linalg)?\.(cond|matrix_rank|pinv)"
    r"|numpy\.linalg\.(cond|matrix_rank|pinv|lstsq)"
    r"|scipy\..*\.(pinv|pinvh|lstsq|null_space|orth|cossin|qz|ordqz|schur|polar|subspace_angles)"
    r"|scipy\..*lapack.*|sklearn\.decomposition\..*)$"
)
LIBRARIES = ("torch", "numpy", "scipy", "sklearn")
REFERENCE_ROOTS = ("fromscratch", "coursekit")
KNOWN_ROOTS = (*LIBRARIES, *REFERENCE_ROOTS, "os", "sys", "operator", "pkgutil", "logging")

# Modules whose mere import is suspicious: they reach below the Python-level traps.
SUSPICIOUS_MODULES = frozenset(
    {"ctypes", "_ctypes", "cffi", "torch._C", "functorch._C", "torch.utils._python_dispatch",
     "torch.utils.cpp_extension", "torch.library", "torch._dynamo", "importlib", "marshal"}
)  # fmt: skip
SUSPICIOUS_ATTRS = frozenset(
    {
        "__closure__", "__code__", "__globals__", "__subclasses__", "__builtins__",
        "cell_contents", "co_consts", "co_code", "f_back", "f_locals", "f_globals", "f_builtins",
        "tb_frame", "gi_frame", "cr_frame", "ag_frame", "_getframe", "_current_frames",
        "currentframe", "stack", "getouterframes", "getclosurevars", "settrace", "setprofile",
        "addaudithook", "meta_path", "path_hooks", "get_objects", "get_referrers",
        "get_referents", "TorchFunctionMode", "TorchDispatchMode", "_disable_current_modes",
        "_DisableTorchDispatch", "DisableTorchFunction", "DisableTorchFunctionSubclass",
        "_python_dispatch", "_C", "_umath_linalg", "_flapack", "_clapack", "import_module",
        "resolve_name", "attrgetter", "methodcaller",
    }
)  # fmt: skip
STRING_CODE_CALLS = frozenset({"eval", "exec", "compile", "__import__"})
LOW_LEVEL_OS = frozenset({"write", "writev", "pwrite", "dup", "dup2", "fdopen", "sendfile"})


@dataclass
class StaticReport:
    """What static analysis saw: evidence for review, never a verdict."""

    per_function: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    suspicious: list[str] = field(default_factory=list)
    syntax_errors: list[str] = field(default_factory=list)

    def findings(self, function: str) -> list[tuple[str, str]]:
        """(family, text) pairs for ``function``, plus the notebook-wide suspicious constructs
        (family "suspicious")."""
        return list(self.per_function.get(function, [])) + [
            ("suspicious", text) for text in self.suspicious
        ]


def analyze(cells: Sequence[str], functions: Iterable[str]) -> StaticReport:
    """Analyse the student's code cells (in notebook order) for the graded ``functions``."""
    report = StaticReport()
    trees = []
    for index, source in enumerate(cells):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError) as exc:
            report.syntax_errors.append(f"cell {index + 1}: {exc.__class__.__name__}")
            continue
        _link_parents(tree)
        trees.append(tree)
    aliases, defs = _bindings(trees)
    for tree in trees:
        for text in _suspicious(tree, aliases):
            if text not in report.suspicious:
                report.suspicious.append(text)
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
                    root = alias.name.split(".")[0]
                    aliases[alias.asname or root] = alias.name if alias.asname else root
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in _top_level(tree.body):
            _bind_top_level(node, aliases, defs)
    return aliases, defs


def _bind_top_level(node: ast.stmt, aliases: dict[str, str], defs: dict[str, ast.AST]) -> None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        defs[node.name] = node
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            if isinstance(node.value, ast.Lambda):
                defs[target.id] = node.value
            elif path := _dotted(node.value, aliases):
                aliases[target.id] = path


def _top_level(body: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements executed at module level, looking inside if/try/with/for blocks."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for attr in ("body", "orelse", "finalbody", "handlers"):
            for item in getattr(node, attr, None) or []:
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
        if node.id not in KNOWN_ROOTS:
            return None
        root = node.id
    return ".".join([root, *reversed(parts)])


# ----------------------------------------------------------------------------- functions


def _local_names(node: ast.AST) -> set[str]:
    """Names a function binds itself (parameters, assignments, loop targets, imports): inside
    it, these shadow any top-level helper of the same name."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return set()
    args = node.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    declared_global: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in sub.names}
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            declared_global |= set(sub.names)
    return names - declared_global


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
        local = _local_names(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in defs and sub.id not in local | seen:
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
        local = _local_names(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in local:
                continue
            if isinstance(sub, (ast.Attribute, ast.Name)):
                path = _dotted(sub, aliases)
                if path and isinstance(sub, ast.Name) and path == sub.id:
                    path = None  # a plain name that is not an import alias
                _classify_path(path, add)
                if isinstance(sub, ast.Attribute) and not path and sub.attr in SPECTRAL_NAMES:
                    add("spectral", f"calls .{sub.attr}()")  # a method on some object: A.svd()
            elif isinstance(sub, ast.Constant) and sub.value in SPECTRAL_NAMES:
                add("spectral", f"refers to {sub.value!r}")
    return found


def _classify_path(path: str | None, add: Callable[[str, str], None]) -> None:
    if not path:
        return
    last = path.rsplit(".", 1)[-1]
    root = path.split(".", 1)[0]
    if root in REFERENCE_ROOTS:
        add("reference", f"uses {path}")
    if root in LIBRARIES and (last in SPECTRAL_NAMES or SPECTRAL_DOTTED.match(path)):
        add("spectral", f"calls {path}")


# ----------------------------------------------------------------------------- suspicious


def _suspicious(tree: ast.Module, aliases: dict[str, str]) -> list[str]:
    found: list[str] = []

    def add(text: str) -> None:
        if text not in found:
            found.append(text)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _check_module(alias.name, add)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            _check_module(node.module, add)
            for alias in node.names:
                _check_module(f"{node.module}.{alias.name}", add)
                if alias.name in SUSPICIOUS_ATTRS or alias.name in STRING_CODE_CALLS:
                    add(f"imports {alias.name} from {node.module}")
        elif isinstance(node, ast.Name):
            _check_name(node, add)
        elif isinstance(node, ast.Attribute):
            _check_attribute(node, _dotted(node, aliases) or "", add)
        elif isinstance(node, ast.Call):
            _check_call(node, add)
    return found


def _check_module(name: str, add: Callable[[str], None]) -> None:
    for banned in SUSPICIOUS_MODULES:
        if name == banned or name.startswith(banned + "."):
            add(f"imports {name}")
            return


def _check_name(node: ast.Name, add: Callable[[str], None]) -> None:
    if node.id in STRING_CODE_CALLS:
        add(f"runs code built from strings ({node.id})")
    elif node.id == "getattr" and not _is_called(node):
        add("uses getattr under another name")
    elif node.id == "__builtins__":
        add("uses __builtins__")


def _is_called(node: ast.Name) -> bool:
    return isinstance(getattr(node, "parent", None), ast.Call) and node.parent.func is node


def _check_attribute(node: ast.Attribute, path: str, add: Callable[[str], None]) -> None:
    if node.attr in SUSPICIOUS_ATTRS and not (node.attr == "stack" and path != "inspect.stack"):
        add(f"uses {path or '.' + node.attr}")
    elif path.endswith("sys.modules") or path.endswith(".sys.modules"):
        add(f"uses {path}")
    elif node.attr in LOW_LEVEL_OS and (path.startswith("os.") or ".os." in path):
        add(f"uses {path}")
    elif path.startswith("torch.") and re.search(r"\._[A-Za-z]", path):
        add(f"uses torch internals ({path})")


def _check_call(node: ast.Call, add: Callable[[str], None]) -> None:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else None
    if name == "getattr" and len(node.args) >= 2:
        attr = node.args[1]
        if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
            add("uses getattr with a computed attribute name")
        elif attr.value in SUSPICIOUS_ATTRS or attr.value in STRING_CODE_CALLS:
            add(f"uses getattr(..., {attr.value!r})")
    if name == "open" and node.args:
        target = node.args[0]
        if isinstance(target, ast.Constant) and isinstance(target.value, int):
            add("opens a file descriptor by number")
        elif isinstance(target, ast.Constant) and str(target.value).startswith(("/proc", "/dev")):
            add(f"opens {target.value}")


def _link_parents(tree: ast.AST) -> None:
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent  # type: ignore[attr-defined]
