"""The public tests of the chapter exercise sets, one module per set (``ch01_tensors`` ...).

Each module defines ``parts(run)``: graded part name (the grade id of its cell in the notebook)
-> a test that calls the student's function through ``run.call`` (observed by the grading traps)
and raises ``fromscratch.check.Fail`` with a message in the student's terms. ``check(...)`` in
the last cell of a set runs them; the grader runs the same kinds of tests on hidden inputs.

Taught in: the chapters' Exercises sections.
"""
