"""Ingestion: one step per source system, landing CSV files -> raw_<system>.<entity> (all or nothing).

The assets live in assets.py (module-level list `ingest_assets`), which dg.load_from_defs_folder
picks up; this file stays empty so the same assets are not collected twice.
"""
