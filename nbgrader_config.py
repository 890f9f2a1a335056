"""nbgrader configuration for the course (instructor side).

The course root is this file's folder. Sources live in solutions/<id>/, releases in
assignments/<id>/. Runtime folders (submitted/, autograded/, feedback/, gradebook.db, exports/,
reports/) are instructor-private and git-ignored.
"""

import os

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "pytorch-from-scratch"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# Trusted grading: verdicts are computed out of the student's kernel by coursekit and written into
# the graded test cells before nbgrader scores them. The pipelines are listed in one place:
# coursekit.verdicts.nbgrader_glue (AUTOGRADE_SANITIZE, AUTOGRADE, FEEDBACK).
from coursekit.verdicts import nbgrader_glue  # noqa: E402

c.Autograde.sanitize_preprocessors = nbgrader_glue.AUTOGRADE_SANITIZE
c.Autograde.autograde_preprocessors = nbgrader_glue.AUTOGRADE
c.GenerateFeedback.preprocessors = nbgrader_glue.FEEDBACK
# Deleted test cells are restored by TrustedVerdicts (nbgrader's own add_missing_cells crashes when
# the cell before a deleted test is a read-only markdown cell).
c.OverwriteCells.add_missing_cells = False
# Seconds per cell in the student's kernel (SafeExecute inherits it). The problem sets' cells take
# well under a second; the verdicts never depend on the kernel, so a cell that hangs (or a kernel
# broken by patched builtins) only costs the student the outputs of the remaining cells.
c.Execute.timeout = 20
c.Execute.shutdown_kernel = "immediate"  # no graceful wait per notebook (saves ~1 s each)
