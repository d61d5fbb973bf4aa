"""The `cc-sieve` command line: version, a mistyped command, the defaults in every command's help."""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess

import pytest

from cc_sieve.filters.registry import RULES
from cc_sieve.jobs.commands.cli import COMMANDS, main
from cc_sieve.jobs.commands.parsers import DefaultsHelpFormatter
from cc_sieve.jobs.config.recipes import known_recipes
from tests.support.commands import CC_SIEVE


def test_version_names_the_package_and_the_code_commit():
    result = subprocess.run([*CC_SIEVE, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert re.fullmatch(rf"cc-sieve 0\.1\.0 \(code {commit}(\+dirty)?\)\n", result.stdout), result.stdout


def test_a_mistyped_command_gets_one_line_with_the_closest_command_and_the_short_usage(capsys):
    assert main(["benchmrak", "--config", "x"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["cc-sieve: unknown command 'benchmrak' (did you mean 'benchmark'?)",
                     "usage: cc-sieve COMMAND [options]   (cc-sieve --help lists the commands; cc-sieve --version)"]
    assert main(["zzz"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == "cc-sieve: unknown command 'zzz'"


class Captured(Exception):
    def __init__(self, parser: argparse.ArgumentParser):
        self.parser = parser


def command_parser_of(command: str, monkeypatch) -> argparse.ArgumentParser:
    """The parser a command builds, caught as it parses (nothing of the command runs)."""
    def capture(self, args=None, namespace=None):
        raise Captured(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    module = importlib.import_module(COMMANDS[command][0])
    with pytest.raises(Captured) as caught:
        module.main([])
    return caught.value.parser


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_of_every_command_says_its_default_in_help(command, monkeypatch):
    parser = command_parser_of(command, monkeypatch)
    formatter = DefaultsHelpFormatter(parser.prog)
    silent = [action.option_strings[0] for action in parser._actions
              if action.option_strings and action.nargs != 0 and not action.required
              and not (action.help and "default" in formatter._get_help_string(action))]
    assert silent == [], f"cc-sieve {command} --help: no default shown for {silent}"


def test_demo_help_shows_the_real_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--output OUTPUT working folder; a rerun reuses its finished stages (default: build/demo)" in text
    assert "--master MASTER Spark master (default: local[2])" in text


def test_rules_lists_every_rule_with_its_source_settings_signal_and_recipes(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    headers = [line.split()[0] for line in out.splitlines() if line.endswith("]") and " rule, family " in line]
    assert headers == list(RULES)
    assert out.count("  source:") == len(RULES) and out.count("  reads:") == len(RULES)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert main(["rules", "gopher_word_count"]) == 0
    assert " ".join(capsys.readouterr().out.split()) == " ".join("""
        gopher_word_count [range rule, family gopher_quality]
        removes: gopher_word_count outside [50, 100000] (defaults); a document without a value is removed
        settings: min (default 50); max (default 100000)
        reads: gopher_word_count (count: words: tokens holding a letter or a digit), written by the annotator
        GopherQuality
        source: Gopher, Rae et al. 2021, appendix A.1.1 (MassiveWeb quality filters)
        note: words are tokens with a letter or digit; datatrove also counts symbols such as '•', '€' (tokens as
        datatrove counts them (spaCy's English rules); the paper fixes no tokenizer)
        recipes: fineweb, gopher""".split())


def test_rules_of_a_family_and_a_mistyped_rule(capsys):
    assert main(["rules", "pii"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pii_entities  [range rule, family pii]")
    assert "written by the benchmark's pii measurement (pii.* settings)" in " ".join(out.split())
    assert main(["rules", "gopher_wordcount"]) == 2
    assert capsys.readouterr().err.startswith(
        "cc-sieve rules: 'gopher_wordcount': no such rule or family (did you mean 'gopher_word_count'?); families: ")


def test_recipes_lists_each_recipe_with_its_rules_and_what_differs_from_the_defaults(capsys, tmp_path):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")] == known_recipes()
    assert main(["recipes", "c4"]) == 0
    rules = capsys.readouterr().out.split("rules, in order:\n")[1].splitlines()
    assert rules == ["    c4_max_length          max 190000",
                     "    language               min 0.8 (default 0.65), languages [en]",
                     "    c4_tfds_sentences      min 3",
                     "    c4_tfds_lorem_ipsum    flag",
                     "    c4_tfds_curly_bracket  flag",
                     "    c4_tfds_badwords       flag",
                     "  duplicates: not removed"]
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\nrules:\n  - rule: gopher_word_count\n    max: null\n"
                    "dedup: {enabled: true, placement: before}\n")
    assert main(["recipes", str(mine)]) == 0
    out = capsys.readouterr().out
    assert "gopher_word_count  min 50, max none (default 100000)" in out
    assert "duplicates: removed before the rules" in out
