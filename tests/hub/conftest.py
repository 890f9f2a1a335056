"""Fixtures of the exchange test: a machine with real users, a JupyterHub, and a browser.

``hub_machine`` makes, for one test module, everything a course hub has on a real machine and
removes it afterwards (``hub_setup.prepare_machine``): the groups ``course-hub-test-students``
and ``...-instructors``, an instructor and two students (system users with random passwords),
the exchange (a temporary folder of mode 1777 instead of /srv/nbgrader/exchange, given to
nbgrader as ``Exchange.root``), the Jupyter configuration a hub administrator writes (the
exchange's settings for everyone, the instructors' extensions turned off for students), and
the instructor's course: the course's nbgrader_config.py and solutions/ps1_power_method, copied
into the instructor's home.

``hub`` runs JupyterHub as root with the example configuration the student edition ships
(hub/jupyterhub_config.py), on 127.0.0.1 and free ports, its proxy from hub/node_modules
(``make hub``). It runs in the ``PythonView`` of hub_support, so the users' servers can start
the course's Python. Stopping it stops every user's server.

The test does not skip: on a machine where it cannot run (not root, no useradd, no proxy
installed) it fails and says why. CI runs as root.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_setup import (
    ARTIFACTS,
    HUB_CONFIG,
    INSTRUCTORS_GROUP,
    PROXY,
    ROOT,
    STUDENTS_GROUP,
    Hub,
    Machine,
    prepare_machine,
    wait_for_hub,
)
from hub_support import SystemUsers, free_port, missing_prerequisites

sys.path.insert(0, str(ROOT / "tests" / "browser"))  # the browser tests' page watcher


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hub: a real JupyterHub with system users (root; creates and removes users)"
    )


@pytest.fixture(scope="module")
def hub_machine() -> Iterator[Machine]:
    problems = missing_prerequisites()
    if not PROXY.exists():
        problems.append(f"no {PROXY.relative_to(ROOT)}: run `make hub` (npm ci --prefix hub)")
    if problems:
        pytest.fail(
            "the JupyterHub exchange test cannot run here: " + "; ".join(problems), pytrace=False
        )
    base = Path(tempfile.mkdtemp(prefix="course-hub-"))
    base.chmod(0o755)  # the users reach the exchange and the Jupyter configuration in it
    users = SystemUsers()
    try:
        try:
            machine = prepare_machine(base, users)
        except RuntimeError as error:  # a machine the test cannot use: say why
            pytest.fail(f"the JupyterHub exchange test cannot run here: {error}", pytrace=False)
        yield machine
    finally:
        problems = users.remove()
        shutil.rmtree(base, ignore_errors=True)
        if problems:
            pytest.fail("could not remove the test's users: " + "; ".join(problems))


@pytest.fixture(scope="module")
def hub(hub_machine: Machine) -> Iterator[Hub]:
    """JupyterHub (as root) with hub/jupyterhub_config.py, on 127.0.0.1 and free ports."""
    ports = [free_port() for _ in range(3)]
    url = f"http://127.0.0.1:{ports[0]}/"
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(hub_machine.state),
        "COURSE_HUB_BIND_URL": url,
        "COURSE_HUB_API_PORT": str(ports[1]),
        "COURSE_HUB_PROXY_API_PORT": str(ports[2]),
        "COURSE_HUB_STATE": str(hub_machine.state),
        "COURSE_HUB_PROXY": str(PROXY),
        "COURSE_JUPYTER_CONFIG": str(hub_machine.jupyter_config),
        "COURSE_STUDENTS_GROUP": STUDENTS_GROUP,
        "COURSE_INSTRUCTORS_GROUP": INSTRUCTORS_GROUP,
    }
    log_path = hub_machine.base / "jupyterhub.log"
    command = hub_machine.view.wrap(
        [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(HUB_CONFIG)]
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=hub_machine.state,
            env=env,
            stdin=subprocess.DEVNULL,  # no terminal: a server stops on SIGINT, asking nothing
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_hub(url, process, log_path)
        yield Hub(url, log_path, process)
    finally:
        process.send_signal(signal.SIGTERM)  # the hub stops the users' servers and its proxy
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, ARTIFACTS / "jupyterhub.log")


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """artifacts/hub/, emptied of the screenshots of an earlier run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS
