"""Point the book's launch buttons at each chapter's generated ``.ipynb`` twin.

Chapters are MyST Markdown notebooks (``book/NN_name.md``). ``course publish`` writes a
Jupyter notebook twin beside each one (``book/NN_name.ipynb``) in the student edition,
because Colab opens only ``.ipynb`` files and JupyterLab opens a ``.md`` file as text.

This extension does two small things, so the same sources build in the course repository
(no twins) and in the student edition (twins present):

1. A twin is never a second source: an ``X.ipynb`` next to a MyST notebook ``X.md`` is
   added to ``exclude_patterns`` (otherwise Sphinx finds two files for one page).
2. The Binder, JupyterHub and Colab links that sphinx-book-theme builds for a MyST notebook
   are rewritten from ``X.md`` to ``X.ipynb``, the twin that the student edition holds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

# Folders that never hold book sources; skipped while looking for twins.
_SKIP_DIRS = {"_build", "node_modules", "web", "__pycache__"}


def is_myst_notebook(path: Path) -> bool:
    """True if ``path`` is a Markdown file with jupytext front matter (a MyST notebook)."""
    if path.suffix != ".md" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    if not head.startswith("---"):
        return False
    front = head.split("---", 2)[1] if head.count("---") >= 2 else ""
    return "jupytext:" in front or "kernelspec:" in front


def find_twins(srcdir: Path) -> list[str]:
    """Paths, relative to ``srcdir`` and with ``/``, of ``.ipynb`` twins of MyST notebooks."""
    twins = []
    for root, dirs, files in os.walk(srcdir):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS]
        for name in files:
            if name.endswith(".ipynb") and is_myst_notebook(Path(root, name).with_suffix(".md")):
                twins.append(Path(root, name).relative_to(srcdir).as_posix())
    return sorted(twins)


def exclude_twins(app: Sphinx, config: Any) -> None:
    """Add every twin to ``exclude_patterns`` (``config-inited``)."""
    config.exclude_patterns = list(config.exclude_patterns) + find_twins(Path(app.srcdir))


def launch_twin(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Rewrite this page's launch links from ``pagename.md`` to ``pagename.ipynb``."""
    source = Path(app.env.doc2path(pagename))
    if not is_myst_notebook(source):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if "url" in button:
                button["url"] = button["url"].replace(f"{pagename}.md", f"{pagename}.ipynb")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", exclude_twins)
    # sphinx-book-theme adds the launch buttons at priority 501; run just after it.
    app.connect("html-page-context", launch_twin, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
