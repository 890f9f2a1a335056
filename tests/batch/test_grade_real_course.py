"""``course grade`` on the course's real problem set and nbgrader_config.py (trusted verdicts).

The repository's config replaces nbgrader's Execute with the course's SafeExecute (the bubblewrap
sandbox, survives dead kernels) and scores from verdicts computed out of process. ``course grade``
must run that pipeline unchanged, with its own limited kernel inside the jail, and write the
same gradebook rows as serial ``nbgrader autograde`` with the same kernel.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from pipeline_helpers import (
    REPO,
    course_cli,
    environment,
    hidden_test_lines,
    real_course,
    reference_answers,
    sandbox_processes,
)

from coursekit.batch import democourse, gradebook
from coursekit.batch.limits import Limits, serial_nbgrader_command, write_kernelspec
from coursekit.verdicts import seeds

ID = "ps1_power_method"
SOURCE = REPO / "solutions" / ID / f"{ID}.ipynb"
pytestmark = pytest.mark.skipif(not SOURCE.exists(), reason=f"{ID} is not written yet")


def write_class(root: Path) -> None:
    released = json.loads((root / "assignments" / ID / f"{ID}.ipynb").read_text())
    answers = reference_answers(SOURCE)

    def answered(extra: str | None = None) -> dict:
        notebook = json.loads(json.dumps(released))
        for cell in notebook["cells"]:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell["source"] = answers[grade_id]
        if extra:
            cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
            notebook["cells"].append({**cell, "source": extra})
        return notebook

    notebooks = {
        "released": released,
        "reference": answered(),
        "exits_after_answering": answered("import os\nos._exit(0)"),
        "writes_outside": answered(f"open({str(root / 'gradebook.db')!r}, 'w').write('x')"),
    }
    deleted = answered()
    test_ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in deleted["cells"]]
    del deleted["cells"][test_ids.index("power_method_float32")]  # a graded test cell
    notebooks["deleted_test_cell"] = deleted
    for student, notebook in notebooks.items():
        folder = root / "submitted" / student / ID
        folder.mkdir(parents=True)
        (folder / f"{ID}.ipynb").write_text(json.dumps(notebook))
    malformed = root / "submitted" / "malformed" / ID
    malformed.mkdir(parents=True)
    (malformed / f"{ID}.ipynb").write_text(json.dumps(answered())[:500])


def test_real_problem_set_with_the_course_config(tmp_path: Path) -> None:
    root = real_course(tmp_path / "course")
    write_class(root)
    serial = tmp_path / "serial"
    subprocess.run(["cp", "-a", str(root), str(serial)], check=True)

    done = course_cli(root, "grade", ID, "--workers", "2", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    with open(root / "reports" / ID / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    full = rows["reference"]["max"]
    assert (rows["released"]["total"], rows["released"]["status"]) == ("0", "ok")
    assert (rows["reference"]["total"], rows["reference"]["status"]) == (full, "ok")
    exits = rows["exits_after_answering"]
    assert (exits["total"], exits["status"]) == (full, "problem")
    assert "the kernel exited with code 0" in exits["reason"]
    outside = rows["writes_outside"]
    assert outside["status"] == "problem" and "outside the submission folder" in outside["reason"]
    deleted = rows["deleted_test_cell"]  # the course's pipeline restores and grades it
    assert (deleted["total"], deleted["status"]) == (full, "problem")
    assert "deleted cell 'power_method_float32': restored from the master copy" in deleted["reason"]
    assert (rows["malformed"]["total"], rows["malformed"]["status"]) == ("0", "error")
    assert "not valid JSON" in rows["malformed"]["reason"]
    url = gradebook.sqlite_url(root / "gradebook.db")
    assert gradebook.integrity_check(url) == "ok"
    assert sandbox_processes(root) == []

    # The self-check cell decides nothing when grading (the verdicts come from the sandbox), so
    # the kernel skips it; every other code cell ran.
    autograded = json.loads((root / "autograded" / "reference" / ID / f"{ID}.ipynb").read_text())
    code = [c for c in autograded["cells"] if c["cell_type"] == "code"]
    skipped = [c for c in code if "self-check" in c["metadata"].get("tags", [])]
    assert len(skipped) == 1 and skipped[0]["outputs"] == []
    assert skipped[0]["execution_count"] is None
    assert all(c["execution_count"] is not None for c in code if c not in skipped)

    feedback = (root / "feedback" / "reference" / ID / f"{ID}.html").read_text()
    assert "BEGIN HIDDEN TESTS" not in feedback
    for line in hidden_test_lines(SOURCE):
        assert line not in feedback

    # Serial nbgrader, same config, same kernel and limits, in its own copy of the course (it
    # runs while the class is graded again below): the same gradebook rows.
    timeout = int(done.stdout.split("cell time limit ")[1].split(" ")[0])
    limits = Limits(timeout=timeout)
    env = environment()
    env["JUPYTER_PATH"] = str(write_kernelspec(tmp_path / "jupyter", limits))
    assert course_cli(serial, "release", ID).returncode == 0  # the master copy, as grade did
    serial_run = subprocess.Popen(
        serial_nbgrader_command(ID, limits),
        cwd=serial,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Hidden inputs are per student and per submission, and recorded so a grade can be
        # reproduced: grading the whole class again gives the same rows, seeds included.
        course_id = "pytorch-from-scratch"
        reference_seeds = seeds.lookup(url, ID, "reference")
        assert len(reference_seeds) == 1
        writes_outside = {r.seed for r in seeds.lookup(url, ID, "writes_outside")}
        assert writes_outside != {reference_seeds[0].seed}
        before = {s: gradebook.extract_record(url, course_id, ID, s) for s in rows}
        again = course_cli(root, "grade", ID, "--workers", "2", "--no-progress", "--force")
        assert again.returncode == 0, again.stderr
        assert {s: gradebook.extract_record(url, course_id, ID, s) for s in rows} == before
        assert seeds.lookup(url, ID, "reference") == reference_seeds
        serial_run.wait(timeout=600)
    finally:
        if serial_run.poll() is None:
            serial_run.kill()
            serial_run.wait()
    theirs = gradebook.sqlite_url(serial / "gradebook.db")
    for student in rows:
        mine = gradebook.extract_record(url, course_id, ID, student)
        assert mine == gradebook.extract_record(theirs, course_id, ID, student), student
    assert democourse.ASSIGNMENT not in rows  # the demo course stays out of the real one
