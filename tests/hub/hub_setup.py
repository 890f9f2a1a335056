"""The course hub's machine as the exchange test makes it: names, folders, the instructor's
course; shared by conftest.py (the fixtures) and the test."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from hub_support import Account, PythonView, SystemUsers, run_as, user_environment

ROOT = Path(__file__).resolve().parents[2]
HUB_CONFIG = ROOT / "hub" / "jupyterhub_config.py"
PROXY = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
ARTIFACTS = ROOT / "artifacts" / "hub"
COURSE_ID = "pytorch-from-scratch"
ASSIGNMENT = "ps1_power_method"
STUDENTS_GROUP = "course-hub-test-students"
INSTRUCTORS_GROUP = "course-hub-test-instructors"
INSTRUCTOR = "course-instructor"
STUDENTS = ("course-student1", "course-student2")
HUB_START_TIMEOUT = 90  # seconds

# What a hub administrator writes into COURSE_JUPYTER_CONFIG (see hub/jupyterhub_config.py).
STUDENT_SERVER_CONFIG = {
    "ServerApp": {
        "jpserver_extensions": {
            "nbgrader.server_extensions.formgrader": False,
            "nbgrader.server_extensions.course_list": False,
        }
    }
}
STUDENT_LAB_CONFIG = {
    "disabledExtensions": {
        "@jupyter/nbgrader:formgrader": True,
        "@jupyter/nbgrader:course-list": True,
        "@jupyter/nbgrader:create-assignment": True,
        "@jupyterlab/apputils-extension:announcements": True,
    }
}


@dataclass
class Machine:
    """The course hub's machine, as the test made it."""

    base: Path  # the test's temporary folder (mode 755: the users reach the exchange in it)
    exchange: Path
    jupyter_config: Path  # COURSE_JUPYTER_CONFIG
    state: Path  # the hub's private state (mode 700)
    view: PythonView
    instructor: Account
    students: dict[str, Account]
    course: Path  # the instructor's course folder

    def environment(self, account: Account) -> dict[str, str]:
        """What a login shell of ``account`` would have: nbgrader finds the exchange's
        settings on the Jupyter config path, as on a hub with /etc/jupyter/nbgrader_config.py."""
        return user_environment(account, {"JUPYTER_CONFIG_PATH": str(self.jupyter_config)})

    def as_instructor(self, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a command as the instructor, in their course folder."""
        return run_as(
            self.view,
            self.instructor,
            list(argv),
            self.course,
            self.environment(self.instructor),
            timeout,
        )

    def as_student(self, name: str, *argv: str) -> subprocess.CompletedProcess:
        account = self.students[name]
        return run_as(self.view, account, list(argv), account.home, self.environment(account))


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def prepare_machine(base: Path, users: SystemUsers) -> Machine:
    """Users, exchange, Jupyter configuration and the instructor's course, in ``base``."""
    users.add_group(STUDENTS_GROUP)
    users.add_group(INSTRUCTORS_GROUP)
    instructor = users.add_user(INSTRUCTOR, [INSTRUCTORS_GROUP])
    students = {name: users.add_user(name, [STUDENTS_GROUP]) for name in STUDENTS}
    view = PythonView.for_this_python(base, ROOT)

    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)  # everyone writes; only owners delete (sticky)

    config = base / "jupyter"
    write(
        config / "nbgrader_config.py",
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n",
    )
    write(config / "students" / "jupyter_server_config.json", json.dumps(STUDENT_SERVER_CONFIG))
    write(config / "students" / "labconfig" / "page_config.json", json.dumps(STUDENT_LAB_CONFIG))
    for folder in (config, config / "students", config / "students" / "labconfig"):
        folder.chmod(0o755)

    state = base / "state"
    state.mkdir(mode=0o700)
    machine = Machine(
        base, exchange, config, state, view, instructor, students, instructor.home / "course"
    )
    give_the_instructor_a_course(machine)
    return machine


def give_the_instructor_a_course(machine: Machine) -> None:
    """The instructor's course, theirs: the course's nbgrader_config.py and the source of ps1.
    Their Formgrader finds it through ~/.jupyter/nbgrader_config.py."""
    course, home = machine.course, machine.instructor.home
    env = machine.environment(machine.instructor)
    for argv in (
        ["mkdir", "-p", str(course / "solutions"), str(home / ".jupyter")],
        ["cp", "-r", str(ROOT / "solutions" / ASSIGNMENT), str(course / "solutions")],
        ["cp", str(ROOT / "nbgrader_config.py"), str(course)],
    ):
        done = run_as(machine.view, machine.instructor, argv, home, env)
        assert done.returncode == 0, done.stderr
    user_config = home / ".jupyter" / "nbgrader_config.py"
    user_config.write_text(
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(course)!r}\n"
    )
    os.chown(user_config, machine.instructor.uid, machine.instructor.gid)


@dataclass
class Hub:
    url: str  # http://127.0.0.1:PORT/
    log: Path
    process: subprocess.Popen


def wait_for_hub(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + HUB_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterHub exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url + "hub/api/", timeout=5) as response:
                if response.status == 200 and "version" in json.loads(response.read()):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    pytest.fail(f"JupyterHub did not start in {HUB_START_TIMEOUT} s:\n{log.read_text()[-4000:]}")
