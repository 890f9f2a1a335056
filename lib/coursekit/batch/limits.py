"""The limits student code runs under while nbgrader executes it, and the kernelspec for them.

nbgrader executes each submission in a Jupyter kernel. ``course grade`` points nbgrader at a
dedicated kernelspec, ``coursekit-limited``, whose ``argv`` runs the launcher
(``limited_kernel`` with ``kernel_guard``, as one ``python -c`` program) instead of
``ipykernel``. The launcher sets the limits below, then starts the real kernel.

The spec lives in a folder of its own that ``course grade`` puts first on ``JUPYTER_PATH``; it
is never installed into the user's Jupyter. ``serial_nbgrader_command`` gives the plain
``nbgrader autograde`` command line that grades with the same kernel and limits, which is what
the tests and the benchmark compare against.
"""

from __future__ import annotations

import base64
import json
import sys
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from coursekit.jail import KERNEL_PROGRAM_VARIABLE

KERNEL_NAME = "coursekit-limited"
JAILED_KERNEL_MANAGER = "coursekit.jail.JailedKernelManager"
DEFAULT_TIMEOUT = 30


@dataclass(frozen=True)
class Limits:
    """Resource limits for one grading kernel.

    Attributes:
        timeout: seconds per cell before nbgrader interrupts it (nbgrader's ``Execute.timeout``).
        memory_mb: address-space limit of the kernel process (``RLIMIT_AS``).
        max_procs: processes the kernel may run besides itself; a watchdog kills the extras.
        file_mb: largest file the kernel may write (``RLIMIT_FSIZE``).
        output_mb: output kept per cell; the rest is dropped before it leaves the kernel.
    """

    timeout: int = DEFAULT_TIMEOUT
    memory_mb: int = 2048
    max_procs: int = 64
    file_mb: int = 64
    output_mb: int = 16

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}.")

    def launcher_arguments(self) -> list[str]:
        """The launcher's options, as they appear in the kernelspec's argv."""
        return [
            "--memory-mb",
            str(self.memory_mb),
            "--max-procs",
            str(self.max_procs),
            "--file-mb",
            str(self.file_mb),
            "--output-mb",
            str(self.output_mb),
        ]


PROGRAM_VARIABLE = KERNEL_PROGRAM_VARIABLE  # the kernel manager keeps the launcher's caps for it
BOOTSTRAP = (
    "import base64, os, zlib; "
    f"exec(zlib.decompress(base64.b64decode(os.environ['{PROGRAM_VARIABLE}'])))"
)


def kernel_program(files: tuple[str, ...] = ("kernel_guard.py", "limited_kernel.py")) -> str:
    """The launcher as one program, ``kernel_guard.py`` then ``limited_kernel.py``, packed.

    Neither file imports ``coursekit``, so the kernel starts inside the grading sandbox
    (``coursekit.jail``), where the course, ``coursekit`` included, is not visible. It travels
    compressed and base64-encoded in the kernelspec's ``env`` (no braces or dollars for
    jupyter_client to fill in), and ``BOOTSTRAP`` runs it with ``python -c``; the launcher
    removes the variable before student code runs. The warm kernels' zygote runs the same two
    files followed by ``zygote.py`` (``files``).
    """
    here = Path(__file__).parent
    source = "\n\n".join((here / name).read_text(encoding="utf-8") for name in files)
    return base64.b64encode(zlib.compress(source.encode("utf-8"), 9)).decode("ascii")


def kernelspec(limits: Limits, python: str = sys.executable) -> dict:
    """The ``kernel.json`` of the limited grading kernel."""
    argv = [python, "-c", BOOTSTRAP, *limits.launcher_arguments()]
    return {
        "argv": [*argv, "-f", "{connection_file}"],
        "env": {PROGRAM_VARIABLE: kernel_program()},
        "display_name": "Python 3 (coursekit grading, limited)",
        "language": "python",
        "interrupt_mode": "signal",
        "metadata": {"debugger": False},
    }


def write_kernelspec(jupyter_dir: Path, limits: Limits) -> Path:
    """Write the kernelspec under ``jupyter_dir/kernels/`` and return ``jupyter_dir``.

    Put the returned folder first on ``JUPYTER_PATH`` so that jupyter_client finds the spec.
    """
    folder = jupyter_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(kernelspec(limits), indent=1) + "\n")
    return jupyter_dir


def nbgrader_overrides(limits: Limits) -> list[str]:
    """nbgrader command-line options that select the limited kernel, started inside the
    bubblewrap sandbox whatever the course's config says, and the cell timeout."""
    return [
        f"--Execute.kernel_name={KERNEL_NAME}",
        f"--Execute.kernel_manager_class={JAILED_KERNEL_MANAGER}",
        f"--Execute.timeout={limits.timeout}",
    ]


def serial_nbgrader_command(assignment_id: str, limits: Limits) -> list[str]:
    """``nbgrader autograde`` with the same kernel and limits, for one-at-a-time grading."""
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    return [nbgrader, "autograde", assignment_id, *nbgrader_overrides(limits)]
