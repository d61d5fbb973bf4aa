"""Weighted shares of the web labeled set and their stratified bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from cc_sieve.filters.web_calibration import stratified_replicates, weighted_share


def test_replicates_draw_within_each_stratum_as_many_units_as_it_holds():
    strata = np.array(["a"] * 3 + ["b"] * 7)
    draws = stratified_replicates(strata, replicates=200)
    assert draws.shape == (200, 10)
    assert np.all(draws[:, :3].sum(axis=1) == 3) and np.all(draws[:, 3:].sum(axis=1) == 7)


def test_a_weighted_share_weights_units_back_to_their_pool():
    # a flagged stratum of 4 units (weight 1) and an unflagged one of 4 units standing for 100 (weight 25)
    flagged = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    positive = np.array([1, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
    weights = np.array([1, 1, 1, 1, 25, 25, 25, 25], dtype=float)
    draws = stratified_replicates(np.array(["f"] * 4 + ["u"] * 4), replicates=300)
    recall = weighted_share(flagged & positive, positive, weights, draws)
    assert recall.value == pytest.approx(2 / 27)  # 2 found of 2 + 25 positives in the pool
    precision = weighted_share(flagged & positive, flagged, weights, draws)
    assert precision.value == 0.5 and precision.low <= 0.5 <= precision.high
    assert weighted_share(flagged, np.zeros(8, dtype=bool), weights, draws).value is None
