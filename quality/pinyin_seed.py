"""Write the character -> pinyin seed that name matching reads (dbt_project/seeds/names/pinyin_chars.csv).

    .venv/bin/salesreview refresh-pinyin

One row per GB2312 character (the 6,763 hanzi every Chinese input method offers): its toneless pinyin in
pypinyin's most frequent reading, and a "fuzzy" key that folds the confusions a rep makes typing a name
through a pinyin input method, the 模糊音 options those methods offer: zh/z, ch/c, sh/s, n/l (initials)
and ang/an, eng/en, ing/in, iang/ian, uang/uan (finals). Two names with the same pinyin are homophones
(华信 / 华鑫); with the same fuzzy key, near-homophones (华信 / 华星). A character not in the seed stands for
itself (a letter, a digit, a rare character). The seed is committed; run this again only to refresh it
(a newer pypinyin), then commit the diff.
"""

from __future__ import annotations

import csv
from pathlib import Path

SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "names" / "pinyin_chars.csv"

INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def fuzzy(pinyin: str) -> str:
    """The fuzzy key of one syllable: zhang -> zan, ling -> nin, shi -> si."""
    for long, short in INITIALS:
        if pinyin.startswith(long):
            pinyin = short + pinyin[len(long) :]
            break
    for long, short in FINALS:
        if pinyin.endswith(long):
            return pinyin[: -len(long)] + short
    return pinyin


def gb2312_hanzi() -> list[str]:
    """The GB2312 hanzi: rows 0xB0-0xF7, cells 0xA1-0xFE (row 0xD7 ends at 0xF9)."""
    chars = []
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def rows() -> list[tuple[str, str, str]]:
    from pypinyin import Style, lazy_pinyin

    out = []
    for char in gb2312_hanzi():
        (pinyin,) = lazy_pinyin(char, style=Style.NORMAL, v_to_u=False)
        out.append((char, pinyin, fuzzy(pinyin)))
    return out


def write_seed(path: Path = SEED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["hanzi", "pinyin", "fuzzy_pinyin"])
        writer.writerows(rows())
    return path
