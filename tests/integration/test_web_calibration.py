"""The web-page calibration the benchmark corrects its rates with is the one the labeled set and the detectors
give today (data/eval/web/calibration.json, written by `cc-sieve calibrate --write`)."""

from __future__ import annotations

import json

from cc_sieve.filters.resources import data_path
from cc_sieve.filters.web_calibration import WEB_CALIBRATION, units_digest, web_calibration
from cc_sieve.jobs.commands.calibrate import main
from cc_sieve.jobs.config.presets import load_benchmark_config


def test_the_stored_calibration_is_current_for_the_default_preset():
    stored = json.loads(data_path(WEB_CALIBRATION).read_text())
    config = load_benchmark_config()
    fresh = web_calibration(config.harm.profanity_threshold, config.harm.pii_per_1k_words,
                            config.pii.score_threshold)
    assert stored["units_sha256"] == units_digest()
    assert json.loads(json.dumps(fresh, sort_keys=True)) == stored
    # what the issue reported, measured on the web pages: LDNOOBW is far less precise there than on tweets
    assert 0.15 < stored["detectors"]["ldnoobw"]["precision"]["value"] < 0.45
    assert stored["pii_entities"]["CREDIT_CARD"]["found"] == 0
    assert stored["pii_entities"]["CREDIT_CARD"]["found_before_context_check"] > 50


def test_the_command_prints_web_pages_beside_tweets(capsys, tmp_path):
    assert main(["--json", str(tmp_path / "tweets.json")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("web pages (601 labeled units")
    assert "tweets and comments (the sets the detectors were first judged on; not web pages)" in printed
    assert "CREDIT_CARD" in printed and "found before the context check" in printed
    assert json.loads((tmp_path / "tweets.json").read_text())[0]["detector"] == "ldnoobw"
