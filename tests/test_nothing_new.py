"""The nothing-new shortcut of `salesreview build` (pipelines/lib/nothing_new.py): it may only answer
"nothing to load" when the full job could not have loaded anything. The end-to-end nights with nothing
new are in test_end_to_end.py and test_safe_nights.py."""

import json

from pipelines.lib.landing import write_manifest
from pipelines.lib.nothing_new import landing_is_loaded
from quality.contract import load_contract

CONTRACT = load_contract()
DAYS = ("2026-11-20", "2026-11-21")


def _deliver(landing, day):
    for system in CONTRACT.systems:
        for entity in CONTRACT.entities_of(system):
            path = landing / CONTRACT.file_path(system, entity.name, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(",".join(entity.column_names) + "\n", encoding="utf-8")
        write_manifest(landing, CONTRACT, system, day)


def _loaded_as_delivered(landing):
    """The load log a build of everything in `landing` would have written."""
    loaded = {}
    for system in CONTRACT.systems:
        for manifest in (landing / CONTRACT.manifest_path(system, "X")).parent.glob("*.json"):
            for entity, meta in json.loads(manifest.read_text(encoding="utf-8"))["files"].items():
                loaded[(system, entity, manifest.stem)] = meta["sha256"]
    return loaded


def test_a_landing_folder_loaded_before_has_nothing_new(tmp_path):
    for day in DAYS:
        _deliver(tmp_path, day)
    assert landing_is_loaded(tmp_path, CONTRACT, _loaded_as_delivered(tmp_path))


def test_a_new_day_a_corrected_file_or_a_broken_manifest_need_the_job(tmp_path):
    _deliver(tmp_path, DAYS[0])
    loaded = _loaded_as_delivered(tmp_path)

    _deliver(tmp_path, DAYS[1])  # a new day
    assert not landing_is_loaded(tmp_path, CONTRACT, loaded)

    loaded = _loaded_as_delivered(tmp_path)
    reps = tmp_path / CONTRACT.file_path("crm", "reps", DAYS[1])
    reps.write_text(reps.read_text(encoding="utf-8") + "R9,王伟\n", encoding="utf-8")
    write_manifest(tmp_path, CONTRACT, "crm", DAYS[1])  # a corrected re-delivery of a loaded day
    assert not landing_is_loaded(tmp_path, CONTRACT, loaded)

    loaded = _loaded_as_delivered(tmp_path)
    assert landing_is_loaded(tmp_path, CONTRACT, loaded)
    (tmp_path / CONTRACT.manifest_path("erp", DAYS[0])).write_text("{", encoding="utf-8")
    assert not landing_is_loaded(tmp_path, CONTRACT, loaded)  # the job names the unreadable manifest
