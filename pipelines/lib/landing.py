"""The landing folder: file layout and delivery manifests.

A delivery is one system's extracts for one extract date. The exporter writes the CSV files,
then the manifest last; a delivery counts as complete only when its manifest exists and every
file it lists has the listed row count and SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from quality.contract import Contract


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def count_csv_rows(path: Path) -> int:
    """Data rows (header excluded). Counted with the csv module so quoted newlines count once."""
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def write_manifest(landing_dir: Path, contract: Contract, system: str, extract_date: str) -> Path:
    """Write the manifest for a delivery whose files are already in place. Call it last."""
    files = {}
    for entity in contract.entities_of(system):
        rel = contract.file_path(system, entity.name, extract_date)
        path = landing_dir / rel
        files[entity.name] = {"path": rel, "rows": count_csv_rows(path), "sha256": sha256_of(path)}
    manifest = {"system": system, "extract_date": extract_date, "files": files}
    out = landing_dir / contract.manifest_path(system, extract_date)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return out


@dataclass(frozen=True)
class Delivery:
    system: str
    extract_date: str
    manifest_path: Path
    files: dict[str, dict]  # entity -> {"path", "rows", "sha256"}
    problems: tuple[str, ...]  # empty when complete

    @property
    def is_complete(self) -> bool:
        return not self.problems


def read_delivery(landing_dir: Path, contract: Contract, system: str, extract_date: str) -> Delivery:
    manifest_path = landing_dir / contract.manifest_path(system, extract_date)
    if not manifest_path.exists():
        return Delivery(system, extract_date, manifest_path, {}, (f"{manifest_path}: manifest missing",))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems = []
    expected = {e.name for e in contract.entities_of(system)}
    missing = sorted(expected - set(manifest["files"]))
    if missing:
        problems.append(f"{manifest_path}: lists no file for {', '.join(missing)}")
    for meta in manifest["files"].values():
        path = landing_dir / meta["path"]
        if not path.exists():
            problems.append(f"{path}: listed in the manifest but not delivered")
        elif sha256_of(path) != meta["sha256"]:
            problems.append(
                f"{path}: content differs from the manifest's SHA-256 (partial or changed upload)"
            )
    return Delivery(system, extract_date, manifest_path, manifest["files"], tuple(problems))


def list_extract_dates(landing_dir: Path, contract: Contract, system: str) -> list[str]:
    """Extract dates with a manifest, oldest first."""
    folder = (landing_dir / contract.manifest_path(system, "X")).parent
    return sorted(p.stem for p in folder.glob("*.json"))
