"""The Dagster code location: everything is loaded from the defs folder (one folder per concern)."""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
