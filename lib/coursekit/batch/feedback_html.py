"""The feedback page's exporter, with its templates compiled once per grading worker.

nbgrader's ``GenerateFeedback`` makes a new ``HTMLExporter`` for every student, and each new
exporter makes a new Jinja environment, which parses and compiles nbconvert's templates
(``index.html.j2``, ``base.html.j2``, ``display_priority.j2`` ...) again: measured with py-spy,
about a sixth of a grading worker's CPU time. ``FeedbackExporter`` is that same exporter with a
Jinja bytecode cache that lives as long as the worker process, so a worker compiles each template
once. The page is the same: Jinja checks every template's source against the checksum it
compiled (a changed template is compiled again), and the filters, globals and resources are still
the exporter's own, per student.

``worker.Grader`` installs it unless the course's ``nbgrader_config.py`` names its own
``GenerateFeedback.exporter_class``.
"""

from __future__ import annotations

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from nbconvert.exporters import HTMLExporter

__all__ = ["FeedbackExporter", "install"]


class _CompiledTemplates(BytecodeCache):
    """Compiled templates in this process's memory, by Jinja's key (template name and file)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # Jinja drops it if the source's checksum differs

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


COMPILED = _CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTMLExporter whose Jinja environment shares this process's compiled templates."""

    def _create_environment(self):  # noqa: ANN202 - nbconvert's signature
        environment = super()._create_environment()
        environment.bytecode_cache = COMPILED
        return environment


def install(config) -> bool:  # noqa: ANN001 - a traitlets Config
    """Make ``GenerateFeedback`` use ``FeedbackExporter``, unless the course chose an exporter."""
    if "exporter_class" in config.GenerateFeedback:
        return False
    config.GenerateFeedback.exporter_class = FeedbackExporter
    return True
