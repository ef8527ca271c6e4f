"""No child process outlives its build.

A build that is killed (kill -9, OOM killer, a reboot of the runner) cannot clean up after itself, and
its children are re-parented and keep running: a `dbt build` goes on writing for minutes. Linux can
send a child a signal when its parent dies (prctl PR_SET_PDEATHSIG); children that we start set it on
themselves before doing anything else:
- dbt is started through `salesreview-dbt`, which sets it and then becomes dbt (exec keeps it);
- the packs' Jupyter kernel already exits when its parent changes (ipykernel's parent poller);
- Quarto, when installed, is started with `preexec_fn=die_with_parent`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from contextlib import suppress
from pathlib import Path

PR_SET_PDEATHSIG = 1
BUILD_PID_VARIABLE = "SRW_BUILD_PID"  # set by the build for its children


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent exits (Linux; a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    # The build may have died before prctl took effect: then we were re-parented already.
    build = os.environ.get(BUILD_PID_VARIABLE)
    if build and os.getppid() != int(build) and not _alive(int(build)):
        os._exit(1)


def stop_children(grace: float = 10.0) -> None:
    """Stop every process this one started and wait for them, so an interrupted build ends alone.

    The death signal above only fires once we have exited; a build stopped by SIGTERM or Ctrl-C must not
    report "interrupted" while its dbt is still writing."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        with suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=grace)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dbt_main() -> None:
    """`salesreview-dbt ARGS`: dbt ARGS, killed when the process that started it dies."""
    die_with_parent()
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(dbt, [str(dbt), *sys.argv[1:]])


# A SIGTERM or Ctrl-C is turned into an exception by whichever Python handler is in place (ours, or
# Dagster's during a run). If it lands while the interpreter runs a garbage-collection callback, that
# exception is "ignored" and the build would run on and publish. Python also writes each signal's number
# to the wakeup fd, at once and whatever the handler does: a thread reading it stops the children (dbt
# fails, the run stops) and remembers the request, which the CLI and the publish step then honour.
_termination = {"watching": False, "requested": False}


def watch_for_termination() -> None:
    """From now on, a SIGTERM/SIGINT to this process stops its children and is remembered (call from the
    main thread, once per process)."""
    if _termination["watching"]:
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    _termination["watching"] = True

    def watch() -> None:
        while received := os.read(read_fd, 512):
            if {signal.SIGTERM, signal.SIGINT} & set(received) and not _termination["requested"]:
                _termination["requested"] = True
                stop_children()

    threading.Thread(target=watch, name="termination-watch", daemon=True).start()


def termination_requested() -> bool:
    """Whether a SIGTERM or SIGINT arrived since watch_for_termination."""
    return _termination["requested"]
