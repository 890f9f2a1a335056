"""Where the built book is, for every suite that reads it (book, browser, publish).

The tests read the site that `make book` wrote; they never build it. COURSE_SITE_DIR points
them at another build (for example one made with `jupyter-book build --path-output`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("COURSE_SITE_DIR", ROOT / "_build" / "html")).resolve()


def require_site() -> Path:
    """The built site's folder, or a one-line failure saying how to build it."""
    if not (SITE / "index.html").is_file():
        pytest.fail(
            f"the built book is missing ({SITE}/index.html): run `make book` first "
            "(`make test` builds it before running the tests)",
            pytrace=False,
        )
    return SITE
