"""The benchmark's corrected prevalences against known truth: `make bench-validity` on 20 splits of the labeled
web pages (one half calibrates the detectors, the other is the measured corpus; jobs/bench/validity.py)."""

from __future__ import annotations

import json

from cc_sieve.jobs.bench.validity import main


def test_corrected_prevalence_intervals_cover_the_truth_and_no_measurable_change_has_the_wrong_sign(tmp_path):
    assert main(["--seeds", "20", "--output", str(tmp_path / "validity.json")]) == 0
    summary = json.loads((tmp_path / "validity.json").read_text())["summary"]
    assert summary["corrected_cases"] >= 100
    assert summary["coverage_unfiltered"] >= 0.9 and summary["coverage_all_recipes"] >= 0.9
    assert summary["by_detector"]["ldnoobw"]["estimable_seeds"] == 20
    # what the headline reports (a corrected prevalence's change) is never measurable with the wrong sign
    assert summary["prevalence_sign_agreement"] in (None, 1.0)
