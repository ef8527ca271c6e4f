"""Progress of long commands on the console: one line per phase, with the time it started, completed
in place when the phase ends ("02:00:14 ingest … done in 12.3 s"). Meant for a terminal and for cron's
log alike, so it stays a handful of lines: the full log goes to a file.

`BuildProgress` follows a Dagster run through its events (an instance event listener): a line per phase
of the nightly build (ingest, dbt, verification_sample, packs, publish), and for dbt the nodes done out
of the nodes to run, at most every `every_seconds` and every `every_share` of the nodes.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from pipelines.lib.build_report import phase_of

ELLIPSIS = "…"


class Progress:
    """Lines of the form '<HH:MM:SS> <label> … <notes> … done in <s> s', written as they happen."""

    def __init__(
        self,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        stamp: Callable[[], str] = lambda: datetime.now().strftime("%H:%M:%S"),
    ):
        self.stream = stream
        self.clock = clock
        self.stamp = stamp
        self.label: str | None = None  # the phase whose line is open
        self.started = 0.0

    def _write(self, text: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(text)
        stream.flush()

    def start(self, label: str) -> None:
        """Open the line of a phase (ending the one before, if any)."""
        self.end()
        self.label, self.started = label, self.clock()
        self._write(f"{self.stamp()} {label} {ELLIPSIS}")

    def note(self, text: str) -> None:
        """Something the open phase reached, on its line."""
        if self.label is None:
            self.line(text)
        else:
            self._write(f" {text} {ELLIPSIS}")

    def end(self, outcome: str = "done") -> float | None:
        """Close the open phase's line with its time; returns its seconds (None: no phase was open)."""
        if self.label is None:
            return None
        seconds = self.clock() - self.started
        self._write(f" {outcome} in {seconds:.1f} s\n")
        self.label = None
        return seconds

    def line(self, text: str) -> None:
        """A line of its own (an open phase's line is left open: it is closed on the next line)."""
        if self.label is not None:
            self._write("\n")
            self.label = None
        self._write(f"{self.stamp()} {text}\n")


def dbt_node_count(manifest_path: Path) -> int | None:
    """The nodes a `dbt build` of the whole project runs (models, seeds, snapshots, data tests; unit
    tests are left to the test suite), as dbt counts them in its 'N of M' lines."""
    try:
        manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kinds = {"model", "seed", "snapshot", "test"}
    return sum(
        1
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in kinds and node.get("config", {}).get("enabled", True)
    )


NODE_EVENTS = ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "ASSET_OBSERVATION")
RUN_ENDS = ("PIPELINE_SUCCESS", "RUN_SUCCESS", "PIPELINE_FAILURE", "RUN_FAILURE", "PIPELINE_CANCELED")


def _event_metadata(event) -> dict:
    data = event.event_specific_data
    for attribute in ("materialization", "asset_observation"):
        inner = getattr(data, attribute, None)
        if inner is not None:
            return dict(getattr(inner, "metadata", None) or {})
    return dict(getattr(data, "metadata", None) or {})


class BuildProgress:
    """An event listener (instance.add_event_listener) that turns a run's events into Progress lines.
    It never raises: the build must not fail because its progress could not be said."""

    def __init__(
        self,
        progress: Progress,
        dbt_nodes: int | None = None,
        every_seconds: float = 10.0,
        every_share: float = 0.1,
    ):
        self.progress = progress
        self.dbt_nodes = dbt_nodes
        self.every_seconds = every_seconds
        self.every_share = every_share
        self.phase: str | None = None
        self.dbt_done: set[str] = set()
        self.said_at = (0.0, 0)  # when and at how many nodes the last dbt count was said

    def __call__(self, entry) -> None:
        try:
            self.handle(entry.dagster_event)
        except Exception:  # noqa: BLE001 - progress is a courtesy; the log has everything
            pass

    def handle(self, event) -> None:
        if event is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            phase = phase_of(event.step_key)
            if phase != self.phase:
                self.phase = phase
                label = phase
                if phase == "dbt" and self.dbt_nodes:
                    label = f"dbt ({self.dbt_nodes} nodes)"
                self.progress.start(label)
                self.said_at = (self.progress.clock(), 0)
        elif kind == "STEP_FAILURE":
            self.progress.end(f"{event.step_key} FAILED")
            self.phase = None
        elif kind in NODE_EVENTS and self.phase == "dbt" and phase_of(event.step_key or "") == "dbt":
            unique_id = _event_metadata(event).get("unique_id")
            unique_id = getattr(unique_id, "value", unique_id)
            if unique_id:
                self.dbt_done.add(str(unique_id))
                self._say_dbt_count()
        elif kind in RUN_ENDS:
            self.progress.end("done" if kind in ("PIPELINE_SUCCESS", "RUN_SUCCESS") else "stopped")
            self.phase = None

    def _say_dbt_count(self) -> None:
        done = len(self.dbt_done)
        now = self.progress.clock()
        said_time, said_nodes = self.said_at
        share = (done - said_nodes) / self.dbt_nodes if self.dbt_nodes else 1.0
        if now - said_time >= self.every_seconds and share >= self.every_share:
            total = f"/{self.dbt_nodes}" if self.dbt_nodes else ""
            self.progress.note(f"{done}{total}")
            self.said_at = (now, done)
