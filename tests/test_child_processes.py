"""No child process outlives its build (pipelines/lib/child_processes.py): a child that asked to die with
its parent is gone once the parent is killed with kill -9; the dbt wrapper runs dbt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO_ROOT

CHILD = (
    "from pipelines.lib.child_processes import die_with_parent; die_with_parent(); "
    "import time; print('child ready', flush=True); time.sleep(120)"
)
PARENT = (
    "import subprocess, sys; "
    f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}]); "
    "print(child.pid, flush=True); child.wait()"
)


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_a_child_that_asked_dies_with_its_killed_parent():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        child = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "child ready"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert _gone(child), "the child outlived its parent"
    finally:
        parent.kill()


def test_the_dbt_wrapper_runs_dbt_and_ignores_a_build_pid_it_does_not_descend_from():
    wrapper = Path(sys.executable).with_name("salesreview-dbt")
    # SRW_BUILD_PID names a live process that is not our parent (it leaked from a test runner): fine.
    ok = subprocess.run(
        [wrapper, "--version"], env={**os.environ, "SRW_BUILD_PID": "1"}, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "installed:" in ok.stdout
    # The build it belongs to is dead and it was re-parented before it could ask: it stops at once.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = subprocess.run(
        [wrapper, "--version"], env={**os.environ, "SRW_BUILD_PID": str(dead.pid)}, capture_output=True
    )
    assert orphan.returncode == 1 and orphan.stdout == b""


def test_a_sigterm_is_remembered_even_when_its_exception_is_lost():
    """The exception a signal handler raises can be swallowed (inside a garbage-collection callback):
    the kernel-level record still says a SIGTERM came, and publishing refuses (release/assets.py)."""
    script = (
        "import os, signal\n"
        "from pipelines.lib.child_processes import termination_requested, watch_for_termination\n"
        "watch_for_termination()\n"
        "signal.signal(signal.SIGTERM, lambda *_: None)  # the interruption lost on its way\n"
        "signal.signal(signal.SIGUSR1, lambda *_: None)\n"
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(termination_requested())\n"
        "os.kill(os.getpid(), signal.SIGUSR1)  # not a request to stop\n"
        "time.sleep(0.5)\n"
        "print(termination_requested(), child.poll() is None)\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "deadline = time.monotonic() + 20\n"
        "while child.poll() is None and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
        "print(termination_requested(), child.poll() is None)  # the child was stopped\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True", "True", "False"]
