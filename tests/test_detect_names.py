"""Name matching (duplicate_customer) and shared numbers (shared_phone) on hand-made customers: the two
detectors and customer_name_keys are built by dbt over a small warehouse holding only the staging tables
they read, and every match, score and look-alike below was worked out by hand from the rules in
dq_duplicate_customer.sql and dq_shared_phone.sql."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")
MODELS = "pinyin_chars company_name_industry_terms customer_name_keys dq_duplicate_customer dq_shared_phone"

# customer_id: (name, city, industry, owner, contact, number, created)
CUSTOMERS = {
    # --- duplicate_customer ---
    "C01": ("上海华信科技有限公司", "上海", "互联网", "R1", "张伟", "13800000001", "2025-01-10"),
    # the same name once normalised: brackets of either width around the city, city written with 市
    "C02": ("华信科技(上海)有限公司", "上海市", "互联网", "R2", "李娜", "13900000002", "2026-03-02"),
    "C03": ("华信科技（上海）有限公司", "上海", "互联网", "R3", "王芳", "13700000003", "2026-03-03"),
    # homophone 华鑫 typed for 华信, same phone, contact, owner, industry: 0.60+0.50+0.30+0.15+0.10 = 1.65
    "C04": ("上海华鑫科技有限公司", "上海", "互联网", "R1", "张伟", "13800000001", "2026-03-04"),
    # a real namesake: homophone, nothing else in common but the industry: 0.60+0.10 = 0.70, not flagged
    "C05": ("华欣科技有限公司", "上海", "互联网", "R4", "赵敏", "13600000005", "2026-03-05"),
    # near-homophone 华星 (xing ~ xin), same contact and owner: 0.60+0.30+0.15+0.10 = 1.15
    "C06": ("上海华星科技有限公司", "上海", "互联网", "R1", "张伟", "13800000066", "2026-03-06"),
    # abbreviation 中石油 of 中国石油天然气, same phone and contact: 0.60+0.50+0.30+0.10 = 1.50
    "C07": ("中国石油天然气股份有限公司", "北京", "能源", "R5", "孙丽", "13500000007", "2024-05-01"),
    "C08": ("中石油", "北京", "能源", "R6", "孙丽", "13500000007", "2026-03-07"),
    # two companies sharing the trade name 华信 (科技 / 物流) in 北京, and 华信 of 上海 in another city
    "C09": ("北京华信科技有限公司", "北京", "互联网", "R7", "周杰", "13300000009", "2025-02-01"),
    "C10": ("北京华信物流有限公司", "北京", "物流", "R7", "吴昊", "13300000010", "2026-03-08"),
    # 华信 abbreviates both; with C09 0.60+0.50+0.30+0.15+0.10 = 1.65, with C10 0.60+0.15-0.30 = 0.45
    "C11": ("华信", "北京", "互联网", "R7", "周杰", "13300000009", "2026-03-09"),
    # province + city prefix, legal forms, a branch: all 腾达电子 in 深圳
    "C12": ("深圳腾达电子有限公司", "深圳", "制造业", "R8", "郑爽", "13200000012", "2025-03-01"),
    "C13": ("广东省深圳市腾达电子股份有限公司", "深圳", "制造业", "R9", "钱进", "13211000013", "2026-03-10"),
    "C14": ("腾达电子有限公司深圳分公司", "深圳", "制造业", "R9", "孙悦", "13222000014", "2026-03-11"),
    # a district after the city; n/l typed for each other (兰 lan ~ 南 nan) with the same phone: 0.60+0.50
    # +0.10 = 1.20; two characters swapped (南华 / 华南: another first syllable, found by the phone):
    # swapped 0.80, 0.40+0.50+0.10 = 1.00
    "C17": ("南京华南机械有限公司", "南京", "制造业", "R3", "冯一", "13100000017", "2025-05-01"),
    "C18": ("江苏省南京市江宁区华南机械公司", "南京", "制造业", "R4", "冯二", "13155000018", "2026-03-13"),
    "C19": ("南京华兰机械有限公司", "南京", "制造业", "R4", "冯三", "13100000017", "2026-03-14"),
    "C20": ("南京南华机械有限公司", "南京", "制造业", "R5", "冯四", "13100000017", "2026-03-15"),
    # one character wrong, not a homophone (商 / 南): with the phone 0.40+0.50+0.10 = 1.00; without it (东)
    # the textbook look-alike, another company: 0.40+0.10 = 0.50
    "C21": ("南京华商机械有限公司", "南京", "制造业", "R6", "冯五", "13100000017", "2026-03-16"),
    "C22": ("南京华东机械有限公司", "南京", "制造业", "R6", "冯六", "13166000022", "2026-03-17"),
    # the district without the city before it
    "C25": ("江宁区华南机械有限公司", "南京", "制造业", "R6", "冯七", "13199000025", "2026-03-19"),
    # 城市 is not a place before the name: two companies (和泰 / 时刻), not both 建设投资
    "C23": ("重庆和泰城市建设投资有限公司", "重庆", "建筑", "R6", "卫一", "13177000023", "2025-06-01"),
    "C24": ("重庆时刻城市建设投资有限公司", "重庆", "建筑", "R6", "卫二", "13188000024", "2026-03-18"),
    # a later name holding the earlier one's characters and more: not an abbreviation (a copy is shorter),
    # another company; one common contact name, another owner
    "C15": ("武汉七喜电子有限公司", "武汉", "制造业", "R1", "王伟", "13100000015", "2025-04-01"),
    "C16": ("武汉七喜华远电子有限公司", "武汉", "制造业", "R2", "王伟", "13144000016", "2026-03-12"),
    # a group's sales subsidiary entered later, with the group's contact, phone and owner: the later name
    # adds a word (销售), a legal entity of its own, not a copy
    "C26": ("长沙远景模具集团有限公司", "长沙", "制造业", "R3", "石平", "13122000026", "2024-01-10"),
    "C27": ("长沙远景模具销售有限公司", "长沙", "制造业", "R3", "石平", "13122000026", "2026-03-20"),
    # near-homophone (致 zhi ~ 字 zi) entered by another rep from the same business card: the contact and
    # the industry agree, 0.60+0.30+0.10 = 1.00; the brand alone (城市+字号) by a third rep, 0.60+0.30+0.10
    "C28": ("长沙时空数字建材有限公司", "长沙", "建筑", "R4", "鲁一", "13122000028", "2023-05-20"),
    "C29": ("长沙时空数致建材有限公司", "长沙", "建筑", "R5", "鲁一", "13122000029", "2026-03-21"),
    "C30": ("长沙时空", "长沙", "建筑", "R6", "鲁一", "13122000030", "2026-03-22"),
    # --- shared_phone (成都) ---
    # one mobile written three ways on three companies of one rep: all flagged
    "S01": ("成都甲方机械有限公司", "成都", "制造业", "R8", "刘一", "+86 138 1111 2222", "2026-01-05"),
    "S02": ("成都乙丙商贸有限公司", "成都", "零售", "R8", "刘二", "0086-13811112222", "2026-01-06"),
    "S03": ("成都丁戊能源有限公司", "成都", "能源", "R8", "刘三", "１３８１１１１２２２２", "2026-01-07"),
    # three mobiles one digit apart (last digit): all flagged
    "S04": ("成都己庚电力有限公司", "成都", "能源", "R8", "陈一", "13922223330", "2026-01-08"),
    "S05": ("成都辛壬仓储有限公司", "成都", "物流", "R8", "陈二", "13922223331", "2026-01-09"),
    "S06": ("成都癸子水务有限公司", "成都", "政府及公共事业", "R8", "陈三", "139 2222 3339", "2026-01-10"),
    # a group's head office landline on three subsidiaries (trade name 远华): legitimate
    "S07": ("成都远华科技有限公司", "成都", "互联网", "R2", "黄一", "028-86001234", "2026-01-11"),
    "S08": ("成都远华物流有限公司", "成都", "物流", "R2", "黄二", "(028)8600 1234", "2026-01-12"),
    "S09": ("成都远华投资有限公司", "成都", "金融", "R3", "黄三", "+86 28 8600 1234转8001", "2026-01-13"),
    # a distributor's buyer, one person, for three companies: legitimate
    "S10": ("成都丑寅医疗器械有限公司", "成都", "医疗", "R4", "陈静", "13733334444", "2026-01-14"),
    "S11": ("成都卯辰教育科技有限公司", "成都", "教育", "R4", "陈静", "13733334444", "2026-01-15"),
    "S12": ("成都巳午建材有限公司", "成都", "建筑", "R5", "陈静", "13733334444", "2026-01-16"),
    # the contact number is rep R9's own mobile: flagged on one customer
    "S13": ("成都未申模具有限公司", "成都", "制造业", "R2", "杨一", "137-0000-9999", "2026-01-17"),
    # mobiles one digit apart on customers of three different owners: chance, not one rep's trick
    "S16": ("成都申酉保险经纪有限公司", "成都", "金融", "R2", "马一", "15800001110", "2026-01-20"),
    "S17": ("成都戌亥供应链有限公司", "成都", "零售", "R3", "马二", "15800001111", "2026-01-21"),
    "S18": ("成都子午燃气有限公司", "成都", "能源", "R4", "马三", "15800001112", "2026-01-22"),
    # one landline on the accounts of three reps (a distributor's switchboard several reps deal with):
    # legitimate
    "S19": ("成都寅卯安防有限公司", "成都", "制造业", "R2", "朱一", "028-85554444", "2026-01-23"),
    "S20": ("成都辰巳网络科技有限公司", "成都", "互联网", "R3", "朱二", "02885554444", "2026-01-24"),
    "S21": ("成都午未仓储有限公司", "成都", "物流", "R4", "朱三", "028 8555 4444", "2026-01-25"),
    # one mobile for three different people on three reps' accounts: a filler number, all flagged
    "S25": ("成都甲乙安防有限公司", "成都", "制造业", "R2", "钱一", "13800138000", "2026-01-29"),
    "S26": ("成都丙丁网络科技有限公司", "成都", "互联网", "R3", "钱二", "138 0013 8000", "2026-01-30"),
    "S27": ("成都戊己仓储有限公司", "成都", "物流", "R4", "钱三", "13800138000", "2026-01-31"),
    # a rep's office landline on three of his accounts, with and without the area code: all flagged
    "S22": ("成都申子文化传媒有限公司", "成都", "互联网", "R7", "秦一", "021-61234567", "2026-01-26"),
    "S23": ("成都辰申置业有限公司", "成都", "建筑", "R7", "秦二", "61234567", "2026-01-27"),
    "S24": ("成都午戌环保有限公司", "成都", "能源", "R7", "秦三", "(021)6123-4567", "2026-01-28"),
    # parent and subsidiary sharing one number: two customers, legitimate
    "S14": ("成都酉戌连锁有限公司", "成都", "零售", "R3", "许一", "13655556666", "2026-01-18"),
    "S15": ("成都亥丑百货有限公司", "成都", "零售", "R3", "许二", "13655556666", "2026-01-19"),
    # two customers of one rep whose numbers were both edited to one number, each with its own contact:
    # flagged; a contact who changed jobs brings his number to his new company (edited, on it alone): not
    "E01": ("成都星河机械有限公司", "成都", "制造业", "R10", "蒋一", "13912340000", "2026-02-01"),
    "E02": ("宁波海岸物流有限公司", "宁波", "物流", "R10", "蒋二", "139-1234-0000", "2026-02-02"),
    "E03": ("成都云帆科技有限公司", "成都", "互联网", "R10", "韩一", "13956780000", "2026-02-03"),
}
EARLIER_NUMBERS = {"E01": "13911110001", "E02": "13911110002", "E03": "13911110003"}
REPS = {"R1": "13000000001", "R2": "13000000002", "R9": "+86 137 0000 9999"}

# copy -> (original, name level, name score, match weight)
DUPLICATES = {
    "C02": ("C01", "same_name", 1.00, 1.10),
    "C03": ("C01", "same_name", 1.00, 1.10),
    "C04": ("C01", "homophone", 0.95, 1.65),
    "C06": ("C01", "near_homophone", 0.90, 1.15),
    "C08": ("C07", "abbreviation", 0.85, 1.50),
    "C11": ("C09", "abbreviation", 0.85, 1.65),
    "C13": ("C12", "same_name", 1.00, 1.10),
    "C14": ("C13", "same_name", 1.00, 1.25),  # C13 also has its owner: 1.00+0.15+0.10
    "C18": ("C17", "same_name", 1.00, 1.10),
    "C19": ("C17", "near_homophone", 0.90, 1.20),  # C18 as well, but created later
    "C20": ("C17", "swapped", 0.80, 1.00),
    "C21": ("C17", "one_char_typo", 0.75, 1.00),
    "C25": ("C17", "same_name", 1.00, 1.10),
    "C29": ("C28", "near_homophone", 0.90, 1.00),
    "C30": ("C28", "abbreviation", 0.85, 1.00),
}
SHARED = {
    "S01",
    "S02",
    "S03",
    "S04",
    "S05",
    "S06",
    "S13",
    "S22",
    "S23",
    "S24",
    "S25",
    "S26",
    "S27",
    "E01",
    "E02",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("names")
    path = root / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.stg_crm__customers (customer_id varchar, customer_name varchar, "
            "city varchar, industry varchar, owner_rep_id varchar, contact_name varchar, "
            "contact_mobile varchar, created_at timestamp, _extract_date date)"
        )
        for customer_id, (name, city, industry, owner, contact, number, created) in CUSTOMERS.items():
            con.execute(
                "insert into staging.stg_crm__customers values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [customer_id, name, city, industry, owner, contact, number, f"{created} 10:00:00", created],
            )
        # the raw versions: every customer as it is now, and the earlier numbers of the edited ones
        con.execute("create schema raw_crm")
        con.execute(
            "create table raw_crm.customers (customer_id varchar, contact_mobile varchar, _extract_date date)"
        )
        rows = [(c, values[5], values[6]) for c, values in CUSTOMERS.items()]
        rows += [(c, number, "2025-12-01") for c, number in EARLIER_NUMBERS.items()]
        con.executemany("insert into raw_crm.customers values (?, ?, ?)", rows)
        con.execute("create table staging.stg_crm__reps (rep_id varchar, mobile varchar)")
        con.executemany("insert into staging.stg_crm__reps values (?, ?)", list(REPS.items()))
    env = {**os.environ, "SRW_WAREHOUSE": str(path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(
        [str(DBT), "build", "--select", *MODELS.split(), "--exclude-resource-type", "unit_test",
         "--target-path", str(root / "target"), "--log-path", str(root / "logs"),
         "--project-dir", "dbt_project", "--profiles-dir", "dbt_project"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def _rows(con, sql: str) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in con.execute(sql).fetchall()}


def test_names_and_numbers_are_normalised(warehouse):
    keys = _rows(warehouse, "select customer_id, city_key, core_name, trade_name, phone_key "
                            "from quality.customer_name_keys")  # fmt: skip
    assert keys["C02"][:3] == ("上海", "华信科技", "华信")
    assert keys["C08"][1:3] == ("中石油", "中石油")
    assert keys["C18"][1] == "华南机械" and keys["C24"][1] == "时刻城市建设投资"
    assert keys["C13"][1] == keys["C14"][1] == "腾达电子"
    assert {keys[c][3] for c in ("S01", "S02", "S03")} == {"13811112222"}
    assert {keys[c][3] for c in ("S07", "S08", "S09")} == {"86001234"}
    assert {keys[c][3] for c in ("S22", "S23", "S24")} == {"61234567"}
    assert keys["S13"][3] == "13700009999"
    pinyin = _rows(
        warehouse, "select customer_id, name_pinyin, name_fuzzy_pinyin from quality.customer_name_keys"
    )
    assert pinyin["C04"] == ("hua xin ke ji", "hua xin ke ji")  # 鑫 = 信: a homophone
    assert pinyin["C06"] == ("hua xing ke ji", "hua xin ke ji")  # 星 ~ 信: a near-homophone


def test_duplicates_name_the_original_with_level_and_scores(warehouse):
    found = _rows(warehouse, "select record_id, evidence from quality.dq_duplicate_customer")
    # not: C05 (homophone only), C10 (华信物流), C09 (华信 of another city), C16 (a common contact name only)
    assert set(found) == set(DUPLICATES)
    for copy, (original, level, name_score, weight) in DUPLICATES.items():
        (evidence,) = found[copy]
        assert f"same company as {original} " in evidence, evidence
        assert f"name {level} {name_score:.2f}" in evidence, evidence
        assert f"match weight {weight:.2f}" in evidence, evidence
        assert f"「{CUSTOMERS[copy][0]}」({copy})" in evidence and f"({original}，" in evidence


def test_shared_numbers_flagged_and_legitimate_groups_not(warehouse):
    found = _rows(warehouse, "select record_id, evidence from quality.dq_shared_phone")
    assert set(found) == SHARED
    assert "same number on 3 customers: S01, S02, S03" in found["S02"][0]
    assert "(or one digit off) on 3 customers: S04, S05, S06" in found["S05"][0]
    assert "mobile of rep R9" in found["S13"][0] and "137****9999" in found["S13"][0]
    assert "****4567 出现在 3 个客户" in found["S22"][0] and "61234567" not in found["S22"][0]
    assert not any(re.search(r"1[3-9]\d{9}", evidence) for (evidence,) in found.values())  # masked


def test_fuzzy_pinyin_folds_what_input_methods_confuse():
    from quality.pinyin_seed import fuzzy

    assert [fuzzy(p) for p in ("zhang", "ling", "shi", "chuang", "xing", "lan")] == [
        "zan", "nin", "si", "cuan", "xin", "nan"
    ]  # fmt: skip
    assert fuzzy("hua") == "hua" and fuzzy("ran") == "ran"  # r/l not folded


def test_the_committed_pinyin_seed_is_what_refresh_pinyin_writes(tmp_path):
    from quality.pinyin_seed import SEED, write_seed

    written = write_seed(tmp_path / "pinyin_chars.csv")  # what `salesreview refresh-pinyin` writes
    assert written.read_bytes() == SEED.read_bytes()
    with open(SEED, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["hanzi", "pinyin", "fuzzy_pinyin"] and len(rows) == 1 + 6763
    assert ["鑫", "xin", "xin"] in rows and ["星", "xing", "xin"] in rows and ["张", "zhang", "zan"] in rows
