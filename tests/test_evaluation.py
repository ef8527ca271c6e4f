"""Scoring of the quarantine against labelled defects, worked out by hand."""

from pipelines.sample.defects import Label, read_labels, write_labels
from pipelines.sample.evaluation import score


def test_precision_and_recall_per_class():
    labels = [
        Label("late_logging", "activities", "A1"),
        Label("late_logging", "activities", "A2"),
        Label("late_logging", "activities", "A3"),
        Label("late_logging", "activities", "A4"),
        Label("overpayment", "payments", "PAY1"),
    ]
    flagged = [
        ("late_logging", "activities", "A1"),
        ("late_logging", "activities", "A2"),
        ("late_logging", "activities", "A3"),
        ("late_logging", "activities", "A9"),  # a look-alike flagged: false positive
        ("late_logging", "activities", "A9"),  # flagged twice counts once
        ("stage_jump", "opportunities", "O1"),  # a class with no labels: precision 0
    ]
    by_class = {s.defect_class: s for s in score(labels, flagged)}
    late = by_class["late_logging"]
    # TP 3 (A1-A3), flagged 4 (A1-A3, A9), labelled 4 (A1-A4): precision 3/4, recall 3/4
    assert (late.true_positives, late.flagged, late.labelled) == (3, 4, 4)
    assert late.precision == 0.75 and late.recall == 0.75 and not late.meets_goal
    # nothing flagged: recall 0, precision undefined
    assert by_class["overpayment"].recall == 0.0 and by_class["overpayment"].precision is None
    assert by_class["stage_jump"].precision == 0.0 and by_class["stage_jump"].recall is None


def test_goal_boundaries():
    # 19 of 20 found (recall 0.95), 19 of 21 flagged (precision 0.905): meets the goal
    labels = [Label("shared_phone", "customers", f"C{i}") for i in range(20)]
    flagged = [("shared_phone", "customers", f"C{i}") for i in range(19)] + [
        ("shared_phone", "customers", "X1"),
        ("shared_phone", "customers", "X2"),
    ]
    (s,) = score(labels, flagged)
    assert s.meets_goal
    # one more false positive: 19/22 = 0.864 < 0.90
    (s,) = score(labels, [*flagged, ("shared_phone", "customers", "X3")])
    assert not s.meets_goal


def test_labels_round_trip(tmp_path):
    labels = [Label("duplicate_customer", "customers", "C000002", "全角 variant"), Label("x", "y", "z")]
    assert read_labels(write_labels(tmp_path / "labels.csv", labels)) == labels


def test_generate_command_writes_the_labels_it_is_asked_for(tmp_path):
    from pipelines.cli import main
    from pipelines.sample.defects import read_labels

    labels = tmp_path / "labels.csv"
    assert (
        main(
            [
                "generate",
                "--scale",
                "0.05",
                "--days",
                "30",
                "--out",
                str(tmp_path / "landing"),
                "--labels",
                str(labels),
            ]
        )
        == 0
    )
    assert {label.defect_class for label in read_labels(labels)}, "defects were injected and labelled"


def test_shapes_score_defects_look_alikes_and_unlabelled_flags_apart():
    from pipelines.sample.evaluation import UNLABELLED, pooled_shapes, score_shapes

    labels = [
        Label("missing_activity_day", "rep_days", "R1:2026-01-05"),  # textbook (no shape)
        Label("missing_activity_day", "rep_days", "R1:2026-02-28", shape="makeup_day"),
        Label("missing_activity_day", "rep_days", "R2:2026-02-28", shape="makeup_day"),
        Label("missing_activity_day", "rep_days", "R1:2026-10-01", kind="look_alike", shape="holiday"),
        Label("missing_activity_day", "rep_days", "R2:2026-10-01", kind="look_alike", shape="holiday"),
    ]
    flagged = [
        ("missing_activity_day", "rep_days", "R1:2026-01-05"),
        ("missing_activity_day", "rep_days", "R1:2026-02-28"),  # one of two make-up days found
        ("missing_activity_day", "rep_days", "R2:2026-10-01"),  # a holiday flagged: a false alarm
        ("missing_activity_day", "rep_days", "R3:2026-03-02"),  # nobody labelled it: a false alarm
        ("stage_jump", "opportunities", "R1:2026-01-05"),  # another class: not this class's flag
    ]
    shapes = {(s.defect_class, s.shape, s.kind): s for s in score_shapes(labels, flagged)}
    textbook = shapes[("missing_activity_day", "textbook", "defect")]
    makeup = shapes[("missing_activity_day", "makeup_day", "defect")]
    holiday = shapes[("missing_activity_day", "holiday", "look_alike")]
    unlabelled = shapes[("missing_activity_day", UNLABELLED, "none")]
    assert (textbook.cases, textbook.flagged, textbook.meets_goal) == (1, 1, True)
    assert (makeup.cases, makeup.flagged, makeup.share, makeup.meets_goal) == (2, 1, 0.5, False)
    assert (holiday.cases, holiday.flagged, holiday.meets_goal) == (2, 1, False)  # 50% > 10% flagged
    assert unlabelled.flagged == 1
    assert shapes[("stage_jump", UNLABELLED, "none")].flagged == 1
    # two seeds add up: 2 of 4 make-up days
    (both,) = [
        s
        for s in pooled_shapes({1: list(shapes.values()), 2: list(shapes.values())})
        if s.shape == "makeup_day"
    ]
    assert (both.cases, both.flagged) == (4, 2)


def test_classes_pool_over_seeds_and_a_miss_on_one_seed_is_said():
    from pipelines.sample.evaluation import ClassScore, CleanRate, misses, pooled

    by_seed = {
        101: [ClassScore("shared_phone", 10, 10, 10)],
        202: [ClassScore("shared_phone", 10, 9, 9)],  # recall 0.9 on this seed
    }
    (total,) = pooled(by_seed)
    assert (total.labelled, total.flagged, total.true_positives) == (20, 19, 19)
    assert total.recall == 0.95 and total.meets_goal
    clean = {404: [CleanRate("late_logging", "activities", 3, 2000), CleanRate("x", "customers", 2, 1000)]}
    assert clean[404][0].per_thousand == 1.5 and clean[404][1].per_thousand == 2.0
    assert misses(by_seed, clean) == [
        "shared_phone (seed 202)",
        "late_logging on the clean company (seed 404): 1.50 per 1,000",
        "x on the clean company (seed 404): 2.00 per 1,000",
    ]


def test_clean_rates_count_flags_against_the_records_of_the_rule_entity(tmp_path):
    import duckdb

    from pipelines.sample.evaluation import clean_rates

    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema staging; create schema quality; create schema seeds")
    con.execute(
        "create table seeds.quality_rules as select * from (values "
        "('shared_phone', 'customers'), ('missing_activity_day', 'rep_days'), "
        "('orphan_reference', 'sales_orders'), ('orphan_reference', 'payments')) t(defect_class, entity)"
    )
    con.execute(
        "create table staging.stg_crm__customers as select 'C' || range as customer_id from range(2000)"
    )
    con.execute(
        "create table staging.stg_erp__sales_orders as select 'O' || range as order_id from range(10)"
    )
    con.execute("create table staging.stg_erp__payments as select 'P' || range as payment_id from range(0)")
    # two reps: R1 all of 2026-01-01 .. 01-10 (10 days), R2 hired 01-06 (5 days)
    con.execute(
        "create table staging.stg_crm__activities as select * from (values "
        "(timestamp '2026-01-01 09:00'), (timestamp '2026-01-10 17:00')) t(activity_at)"
    )
    con.execute(
        "create table staging.stg_crm__reps as select * from (values "
        "('R1', null::date, null::date), ('R2', date '2026-01-06', null::date)) "
        "t(rep_id, hire_date, leave_date)"
    )
    con.execute(
        "create table quality.quarantine as select * from (values "
        "('shared_phone', 'customers', 'C1'), ('shared_phone', 'customers', 'C2'), "
        "('shared_phone', 'customers', 'C2'), ('orphan_reference', 'sales_orders', 'O1')) "
        "t(defect_class, entity, record_id)"
    )
    con.close()
    rates = {(r.defect_class, r.entity): (r.flagged, r.records) for r in clean_rates(path)}
    assert rates == {
        ("shared_phone", "customers"): (2, 2000),  # 1.0 per 1,000: not below the goal
        ("missing_activity_day", "rep_days"): (0, 15),
        ("orphan_reference", "sales_orders"): (1, 10),
        ("orphan_reference", "payments"): (0, 0),
    }


def test_the_report_has_a_row_per_class_shape_and_clean_class():
    from pipelines.sample.evaluation import ClassScore, CleanRate, ShapeScore, format_report

    report = format_report(
        {101: [ClassScore("stage_jump", 20, 19, 19)]},
        {101: [ShapeScore("stage_jump", "backfilled_stages", "defect", 10, 9)]},
        {404: [CleanRate("stage_jump", "opportunities", 1, 2000)]},
    )
    assert "| stage_jump | 20 | 19 | 19 | 1.000 | 0.950 | met | 101: 1.000 / 0.950 |" in report
    assert "| stage_jump | backfilled_stages | defect | 10 | 9 | 0.900 | MISSED |" in report
    assert "| stage_jump | opportunities | 2000 | 1 | 0.50 | met |" in report
    clean_only = format_report({}, {}, {404: [CleanRate("stage_jump", "opportunities", 1, 2000)]})
    assert clean_only.startswith("### Clean company (seed 404")
