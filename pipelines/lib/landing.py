"""The landing folder: file layout and delivery manifests.

A delivery is one system's extracts for one extract date. The exporter writes the CSV files,
then the manifest last; a delivery counts as complete only when its manifest exists and every
file it lists has the listed SHA-256 (and, checked when the file is read, the listed row count).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from quality.contract import Contract

# The csv module refuses fields over 128 KiB; the ingest, not the csv module, decides what is too long.
csv.field_size_limit(2**31 - 1)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def count_csv_rows(path: Path) -> int:
    """Data rows (header excluded). Counted with the csv module so quoted newlines count once; bytes
    that are not UTF-8 are counted too (the ingest says what is wrong with such a file)."""
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def write_manifest(
    landing_dir: Path,
    contract: Contract,
    system: str,
    extract_date: str,
    *,
    source: dict | None = None,
    known: dict[str, tuple[int, str]] | None = None,
) -> Path:
    """Write the manifest for a delivery whose files are already in place. Call it last.
    `source` says where a delivery made by `salesreview deliver` came from (profile, first load of
    history, currency, absent entities, defaulted columns, source files); exporters omit it.
    `known`: entity -> (rows, sha256) of files the caller has just written from memory (the generator),
    so they are not read back; the others are counted and hashed from disk."""
    files = {}
    for entity in contract.entities_of(system):
        rel = contract.file_path(system, entity.name, extract_date)
        if known is not None and entity.name in known:
            rows, sha256 = known[entity.name]
        else:
            path = landing_dir / rel
            rows, sha256 = count_csv_rows(path), sha256_of(path)
        files[entity.name] = {"path": rel, "rows": rows, "sha256": sha256}
    manifest: dict = {"system": system, "extract_date": extract_date, "files": files}
    if source is not None:
        manifest["source"] = source
    out = landing_dir / contract.manifest_path(system, extract_date)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return out


@dataclass(frozen=True)
class Manifest:
    """A delivery's manifest as written by the exporter (its files are not checked here)."""

    system: str
    extract_date: str
    path: Path
    files: dict[str, dict]  # entity -> {"path", "rows", "sha256"}
    problems: tuple[str, ...]  # the manifest itself is unusable or incomplete
    # How `salesreview deliver` made the files from a source export (profiles/FORMAT.md); None when the
    # system delivers contract-shaped files itself.
    source: dict | None = None


def read_manifest(landing_dir: Path, contract: Contract, system: str, extract_date: str) -> Manifest:
    """Read one manifest; problems say what makes it unusable (not JSON, an entity missing, no date)."""
    path = landing_dir / contract.manifest_path(system, extract_date)
    relative = contract.manifest_path(system, extract_date)
    try:
        date.fromisoformat(extract_date)
    except ValueError:
        return Manifest(system, extract_date, path, {}, (f"{relative}: the name is not a date YYYY-MM-DD",))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
        for meta in files.values():
            meta["path"], meta["sha256"], int(meta["rows"])  # noqa: B018 - each must be there
        source = manifest.get("source")
        if source is not None and not isinstance(source, dict):
            raise TypeError(f"'source' must be an object, not {type(source).__name__}")
    except (OSError, ValueError, KeyError, TypeError) as error:
        problem = f"{relative}: not a readable manifest ({type(error).__name__}: {error})"
        return Manifest(system, extract_date, path, {}, (problem,))
    expected = {e.name for e in contract.entities_of(system)}
    missing = sorted(expected - set(files))
    problems = (f"{relative}: lists no file for {', '.join(missing)}",) if missing else ()
    return Manifest(system, extract_date, path, files, problems, source)


def file_problem(landing_dir: Path, meta: dict) -> str | None:
    """Whether a file listed in a manifest is there with the listed content (None) or not (why)."""
    path = landing_dir / meta["path"]
    if not path.exists():
        return f"{meta['path']}: listed in the manifest but not delivered"
    return sha_mismatch_problem(meta, sha256_of(path))


def sha_mismatch_problem(meta: dict, actual: str) -> str | None:
    """Why a file listed in a manifest is not the one listed, given its SHA-256 (None: it is)."""
    if actual != meta["sha256"]:
        return (
            f"{meta['path']}: its SHA-256 is {actual[:12]}…, the manifest says {meta['sha256'][:12]}… "
            "(the upload is partial, or the file changed after the manifest was written)"
        )
    return None


def list_extract_dates(landing_dir: Path, contract: Contract, system: str) -> list[str]:
    """Extract dates with a manifest, oldest first."""
    folder = (landing_dir / contract.manifest_path(system, "X")).parent
    return sorted(p.stem for p in folder.glob("*.json"))


def dates_without_manifest(landing_dir: Path, contract: Contract, system: str) -> dict[str, int]:
    """Extract date -> files delivered for it whose manifest has not arrived (export still running?)."""
    with_manifest = set(list_extract_dates(landing_dir, contract, system))
    waiting: dict[str, int] = {}
    for entity in contract.entities_of(system):
        folder = (landing_dir / contract.file_path(system, entity.name, "X")).parent
        for path in folder.glob("*.csv"):
            if path.stem not in with_manifest:
                waiting[path.stem] = waiting.get(path.stem, 0) + 1
    return dict(sorted(waiting.items()))
