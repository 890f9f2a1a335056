"""Batch grading, `course grade`: a whole class through nbgrader in parallel, surviving bad
submissions. (One notebook's verdicts come from ``coursekit.verdicts``.)

Modules, in the order a run uses them (see ``run`` for the pipeline):

    command        the command line (``course grade ID --workers N --scheduler ADDR ...``)
    run            the pipeline: load the course, plan, grade, merge, export, report
    course         finding the course and loading nbgrader's configuration like nbgrader does
    plan           students, content hashes, the journal (idempotent and resumable runs)
    gradebook      snapshot for the workers, merge of their rows into the one real gradebook
    pool           the local engine: one worker process per core, one student at a time each
    dask_runner    the same work on a Dask ``distributed`` cluster
    worker         one student: nbgrader's Autograde and GenerateFeedback in a scratch folder
    precheck       what is wrong with a submission before it runs (files, cells, metadata)
    reasons        what went wrong while it ran, and the row's status and one-line reason
    limits         the grading kernel's limits and its kernelspec
    limited_kernel the kernel launcher: rlimits, sandbox user, process watchdog
    kernel_guard   inside the kernel: no writes outside the folder, capped output
    democourse     a small demo course and class (every bad kind) for tests and the benchmark

This ``__init__`` imports nothing, so that the kernel launcher and ``course --help`` stay light.
"""
