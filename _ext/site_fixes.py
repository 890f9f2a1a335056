"""Small fixes to the generated pages, each found by the browser tests (tests/browser).

- sphinx-thebe and sphinx-togglebutton register their inline scripts twice under Jupyter
  Book (once with filename None, once with ""), so every page threw "Identifier
  'THEBE_JS_URL' has already been declared" in the console. Identical scripts are now
  written once per page.
- docutils marks each bibliography entry ``role="doc-biblioentry"`` inside a ``role="list"``;
  axe-core no longer counts that (deprecated) role as a list item and reported the list as
  critical (aria-required-children). Entries are marked ``role="listitem"``.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _script_key(script: Any) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", str(script)) or ""  # inline scripts: None or ""
    return (filename, tuple(sorted(attributes.items())))


def drop_duplicate_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Keep the first of any identical <script> entries (same file, same attributes)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def list_items_for_citations(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree
) -> None:
    """Bibliography entries as list items of their ``role="list"`` (an accessible list)."""
    body = context.get("body")
    if isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("html-page-context", list_items_for_citations, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
