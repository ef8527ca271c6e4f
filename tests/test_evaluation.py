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
