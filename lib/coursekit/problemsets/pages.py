"""The book's Exercises pages, generated from the RELEASED notebooks (never from the solutions).

``render(assignment_id)`` turns ``assignments/<id>/<id>.ipynb`` into a plain MyST Markdown page:
the markdown cells as they are, the code cells as ``python`` code blocks (not executed: the stubs
raise ``NotImplementedError`` on purpose), and after the title a box with a download link and a
launch link. ``tests/problemsets`` checks that the committed page equals ``render`` of the
committed release, so the page can never show more than the students receive.

Regenerate after ``nbgrader generate_assignment``::

    python -m coursekit.problemsets.pages ps1_power_method   # writes book/exercises/<id>.md
"""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

__all__ = ["page_path", "render"]

ROOT = Path(__file__).resolve().parents[3]
# Launch targets, each opening the released notebook in the student edition (_config.yml's
# repository), on the services _config.yml's launch_buttons names.
LAUNCH = {
    "binderhub_url": ("Binder", "{base}/v2/gh/{repo}/{branch}?urlpath=lab/tree/{path}"),
    "colab_url": ("Colab", "{base}/github/{repo}/blob/{branch}/{path}"),
    "jupyterhub_url": (
        "the course's JupyterHub",
        "{base}/hub/user-redirect/git-pull?repo={url}&branch={branch}"
        "&urlpath=lab/tree/{name}/{path}",
    ),
}
# The chapters each problem set builds on (book/<name>.md), linked from the top of its page.
RELIES_ON: dict[str, tuple[str, ...]] = {
    "ps1_power_method": ("03_matmul",),
    "ps2_low_rank": ("03_matmul", "06_autograd"),
    "ps3_mlp_gd": ("04_forward", "05_backward", "08_optim"),
}


def _config() -> dict:
    config = ROOT / "_config.yml"
    if not config.exists():
        return {}
    import yaml

    return yaml.safe_load(config.read_text(encoding="utf-8")) or {}


def _repository() -> tuple[str, str]:
    """(owner/name, branch) from the book's _config.yml (repository.url / branch)."""
    section = _config().get("repository", {}) or {}
    url = str(section.get("url", ""))
    return url.removeprefix("https://github.com/").strip("/"), str(section.get("branch", "main"))


def launch_links(notebook: str) -> list[tuple[str, str]]:
    """(service label, URL) for every launch service of _config.yml, opening ``notebook`` (a
    path in the student edition)."""
    repo, branch = _repository()
    if not repo:
        return []
    services = _config().get("launch_buttons", {}) or {}
    url = f"https://github.com/{repo}"
    links = []
    for key, (label, pattern) in LAUNCH.items():
        base = str(services.get(key, "") or "").rstrip("/")
        if base:
            target = pattern.format(base=base, repo=repo, branch=branch, path=notebook, url=url,
                                    name=repo.split("/")[-1])  # fmt: skip
            links.append((label, target))
    return links


def page_path(assignment_id: str) -> Path:
    return ROOT / "book" / "exercises" / f"{assignment_id}.md"


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _fence(code: str) -> str:
    ticks = "```"
    while ticks in code:
        ticks += "`"
    return f"{ticks}python\n{code.rstrip()}\n{ticks}"


def _relies_on(assignment_id: str) -> list[str]:
    chapters = RELIES_ON.get(assignment_id, ())
    if assignment_id.startswith("ch"):  # a chapter set: ch04_forward -> book/04_forward
        chapters = (assignment_id.removeprefix("ch"),)
    if not chapters:
        return []
    links = ", ".join(f"{{doc}}`../{name}`" for name in chapters)
    return [f"It builds on {links}."]


def render(assignment_id: str) -> str:
    """The Exercises page for one released notebook, as MyST Markdown."""
    released = ROOT / "assignments" / assignment_id / f"{assignment_id}.ipynb"
    nb = json.loads(released.read_text(encoding="utf-8"))
    notebook = f"assignments/{assignment_id}/{assignment_id}.ipynb"
    # Raw HTML anchors: MyST escapes a link's "&" twice (MyST-Parser issue 760), which would
    # turn the JupyterHub link's "&branch=" into "&amp;branch=".
    targets = [
        f'<a href="{html.escape(url)}">{html.escape(label)}</a>'
        for label, url in launch_links(notebook)
    ]
    launches = " or ".join(filter(None, (", ".join(targets[:-1]), *targets[-1:])))
    links = [
        f"{{download}}`Download {assignment_id}.ipynb <../../{notebook}>`, open it in "
        "JupyterLab, and work through it from top to bottom"
    ]
    if launches:
        links.append(f"or open it on {launches} (no installation needed)")
    box = "\n".join(
        [
            ":::{admonition} Get the notebook",
            ":class: tip",
            ", ".join(links) + ".",
            *_relies_on(assignment_id),
            "This page shows the student version: the code cells below are what you start from.",
            "The *Validate* button runs the visible tests; your score comes from hidden tests "
            "that the course runs when it grades your submission.",
            ":::",
        ]
    )
    blocks: list[str] = []
    for index, cell in enumerate(nb["cells"]):
        text = _source(cell).strip("\n")
        if not text.strip():
            continue
        if cell["cell_type"] == "markdown":
            if index == 0 and text.startswith("# "):
                title, _, rest = text.partition("\n")
                blocks.append(title)
                blocks.append(box)
                if rest.strip():
                    blocks.append(rest.strip("\n"))
                continue
            blocks.append(text)
        elif cell["cell_type"] == "code":
            blocks.append(_fence(text))
    header = (
        f"% Generated from {notebook} by `python -m coursekit.problemsets.pages {assignment_id}`;\n"
        "% do not edit by hand (tests/problemsets checks that it matches the release)."
    )
    return header + "\n\n" + "\n\n".join(blocks) + "\n"


def main(argv: list[str]) -> None:
    for assignment_id in argv:
        path = page_path(assignment_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(assignment_id), encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
