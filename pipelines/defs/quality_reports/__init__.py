"""The weekly verification sample (核查样本) and the managers' verdicts (核查结论)."""
