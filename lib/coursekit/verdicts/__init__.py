"""Trusted verdicts: how one notebook's graded parts are decided, outside the student's kernel.
(Grading a whole class, in parallel, is ``coursekit.batch``.)

The verdict of every graded test cell is computed OUT of the student's kernel:

1. ``static``   parses the student's code with ``ast`` and names what looks suspicious (forbidden
                 routines reachable from a graded function, obfuscated lookups, interpreter
                 introspection): evidence for a person (``Verdict.review``), never a zero.
2. ``sandbox``  runs the student's cells in a fresh child process under the runtime ``traps``
                 (every route to a forbidden routine, threads refused), and answers "call
                 power_method(A, k)" requests with plain data only (``replies``). A part loses
                 points for a shortcut only when the traps saw it run during its calls.
3. ``checks``   the API the problem-set modules use: ``Check``, ``GradingFailure``, ``Student``.
4. ``grader``   runs one problem set's checks against one notebook and returns the verdicts.
5. ``nbgrader_glue``  nbgrader preprocessors that write those verdicts into the graded test
                 cells (autograde) and hide hidden tests from the feedback.

This ``__init__`` stays import-light on purpose: the sandbox child imports the package too.
"""
