"""Trusted verdicts: how one notebook's graded parts are decided, outside the student's kernel.
(Grading a whole class, in parallel, is ``coursekit.batch``.)

The verdict of every graded test cell is computed OUT of the student's kernel:

1. ``static``   parses the student's code with ``ast`` and names shortcuts (forbidden routines,
                 autograd where it is banned, obfuscated lookups, interpreter introspection).
2. ``sandbox``  runs the student's cells in a fresh child process with traps on the forbidden
                 routines, and answers "call power_method(A, k)" requests with plain data only.
3. ``checks``   the API the problem-set modules use: ``Check``, ``GradingFailure``, ``Student``.
4. ``grader``   runs one problem set's checks against one notebook and returns the verdicts.
5. ``nbgrader_glue``  nbgrader preprocessors that write those verdicts into the graded test
                 cells (autograde) and hide hidden tests from the feedback.

This ``__init__`` stays import-light on purpose: the sandbox child imports the package too.
"""
