"""Instructor tooling for the course: problem-set graders and the nbgrader glue.

Nothing a student receives imports this package. It may import nbgrader, torch, numpy and read
the student package ``fromscratch``; the student package never imports it.

Subpackages:
    coursekit.verdicts      trusted, out-of-process grading (sandbox, static checks, nbgrader glue)
    coursekit.problemsets  one module per problem set: its graded parts as data (``CHECKS``)
"""
