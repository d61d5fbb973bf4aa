"""Recipes: the bundled YAML files, one-line validation errors, SQL predicates, annotator planning."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cc_sieve.filters.base import AnnotatorSpec, batch_of
from cc_sieve.filters.quality import GopherQuality, GopherRepetition
from cc_sieve.filters.registry import RULES
from cc_sieve.jobs.config.recipes import (
    RECIPE_DIR,
    ConfigError,
    known_recipes,
    load_recipe,
    load_recipes,
    required_annotators,
)
from cc_sieve.jobs.tracking.runs import flatten
from tests.support.samples import sample_documents

BUNDLED = ["raw", "c4", "gopher", "fineweb", "url-blocklist", "badwords"]


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_recipe(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message[len(f"{path}: "):]


def test_bundled_recipes_load_by_name():
    recipes = load_recipes(BUNDLED)
    assert [recipe.name for recipe in recipes] == BUNDLED
    assert set(BUNDLED) <= set(known_recipes())
    assert recipes[0].rules == [] and recipes[0].removal_predicates() == {}
    assert load_recipe("gopher").path == RECIPE_DIR / "gopher.yaml"
    assert load_recipe(RECIPE_DIR / "gopher.yaml").name == "gopher"


def test_fineweb_is_its_published_stack():
    rules = load_recipe("fineweb").rule_names()
    families = [RULES[name].family for name in rules]
    assert families[:5] == ["url", "url", "url", "url", "language"]
    assert {"gopher_repetition", "gopher_quality", "c4", "fineweb"} <= set(families)
    assert "c4_fineweb_sentences" in rules and "fineweb_c4_char_dup_ratio" in rules
    assert not any(name.startswith("c4_tfds") or name.startswith("c4_datatrove") for name in rules)


def test_rule_without_thresholds_takes_the_registry_default(tmp_path):
    text = "name: x\nrules:\n  - rule: gopher_word_count\n  - rule: gopher_stop_words\n"
    recipe = load_recipe(write(tmp_path, text))
    assert recipe.removal_predicates() == {
        "gopher_word_count":
            "coalesce(NOT (`gopher_word_count` >= 50 AND `gopher_word_count` <= 100000), true)",
        "gopher_stop_words": "coalesce(NOT (`gopher_stop_words` >= 2), true)"}


def test_null_threshold_removes_that_bound(tmp_path):
    recipe = load_recipe(write(tmp_path, "name: x\nrules:\n  - rule: gopher_word_count\n    max: null\n"))
    predicate = recipe.removal_predicates()["gopher_word_count"]
    assert predicate == "coalesce(NOT (`gopher_word_count` >= 50), true)"
    assert recipe.as_params()["rules"]["gopher_word_count"] == {"min": 50, "max": None}


def test_predicates_of_every_kind():
    predicates = load_recipe("c4").removal_predicates()
    assert predicates["language"] == (
        "coalesce(NOT (`language` IN ('en') AND `language_score` >= 0.8D), true)")
    assert predicates["c4_tfds_sentences"] == "coalesce(NOT (`c4_tfds_sentences` >= 3), true)"
    assert predicates["c4_tfds_badwords"] == "coalesce(`c4_tfds_badwords`, false)"
    assert predicates["c4_max_length"] == "coalesce(NOT (`text_chars` <= 190000), true)"
    url = load_recipe("url-blocklist").removal_predicates()
    assert url["url_soft_banned_words"] == "coalesce(NOT (`url_soft_banned_words` <= 1), false)"
    assert load_recipe("gopher").removal_predicates()["gopher_hash_ratio"] == (
        "coalesce(NOT (`gopher_hash_ratio` <= 0.1D), true)")


@pytest.mark.parametrize(("text", "expected"), [
    ("name: x\nrules:\n  - rule: gopher_word_count\n  - rule: gopher_stop_words\n"
     "  - rule: gopher_wordcount\n",
     "rules[2].rule: unknown rule 'gopher_wordcount' (did you mean 'gopher_word_count'?); "
     "known: gopher_word_count, "),
    ("name: x\nrules:\n  - rule: gopher_word_count\n    min: fifty\n",
     "rules[0].min: Input should be a valid number"),
    ("name: x\nrules:\n  - rule: gopher_word_count\n    min: 500\n    max: 100\n",
     "rules[0].min: min 500 is greater than max 100: the rule would remove everything"),
    ("name: x\nrules:\n  - rule: gopher_mean_word_length\n    min: -1\n",
     "rules[0].min: -1.0 is impossible: gopher_mean_word_length is never negative"),
    ("name: x\nrules:\n  - rule: fineweb_char_dup_ratio\n    max: 10\n",
     "rules[0].max: 10.0 is impossible: fineweb_char_dup_ratio is a fraction in [0, 1]"),
    ("name: x\nrules:\n  - rule: gopher_stop_words\n    min: 2.5\n",
     "rules[0].min: 2.5 must be a whole number: gopher_stop_words is a count"),
    ("name: x\nrules:\n  - rule: c4_tfds_lorem_ipsum\n    min: 1\n",
     "rules[0].min: rule 'c4_tfds_lorem_ipsum' is a flag (removes when true) and takes no 'min'; "
     "it takes: nothing"),
    ("name: x\nrules:\n  - rule: gopher_word_count\n    maximum: 5\n",
     "rules[0].maximum: unknown key; allowed: rule, min, max, languages, lexicon, lists, language"),
    ("name: x\nfilters: []\n", "filters: unknown key; allowed: name, description, rules, dedup"),
    ("name: x\ndedup: {enabled: true, scope: crawl}\n", "dedup.scope: unknown key; allowed: enabled, placement"),
    ("description: no name\n", "name: Field required"),
    ("name: x\nrules:\n  - rule: gopher_word_count\n  - rule: gopher_word_count\n",
     "rules[1].rule: rule 'gopher_word_count' is already listed at rules[0]"),
    ("name: x\nrules:\n  - rule: c4_tfds_sentences\n  - rule: c4_fineweb_lorem_ipsum\n",
     "rules: C4 rules of variants fineweb, tfds in one recipe"),
    ("name: x\nrules:\n  - rule: gopher_word_count\n    min: null\n    max: null\n",
     "rules[0]: rule 'gopher_word_count' has neither min nor max: it would remove nothing"),
    ("name: x\nrules:\n  - rule: language\n    languages: []\n", "rules[0].languages: name at least one"),
    ("name: x\nrules:\n  - rule: badwords_ldnoobw\n    lexicon: ldnoobw-nope\n",
     "rules[0].lexicon: list 'ldnoobw-nope' not found: lexicons/ldnoobw-nope: not found under any "
     "data folder"),
    ("name: x\nrules:\n  - rule: badwords_ldnoobw\n    language: klingon\n",
     "rules[0].language: 'klingon': use detected, declared or a language of ldnoobw-c4-25e679f (ar, cs,"),
    ("name: x\ndedup: {enabled: true, placement: during}\n",
     "dedup.placement: Input should be 'before' or 'after'"),
    ("- just\n- a list\n", "expected a mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_validation_errors_are_one_line_with_the_key(tmp_path, text, expected):
    assert error_of(write(tmp_path, text)).startswith(expected)


@pytest.mark.parametrize(("name", "shown"), [
    ("../../etc/cron.d/x", "../../etc/cron.d/x"),
    ("/tmp/abs", "/tmp/abs"),
    ("Gopher", "Gopher"),
    ("my recipe", "my recipe"),
    ("a.b", "a.b"),
    ("x\\u001b]0;owned\\u0007", "x\\x1b]0;owned\\x07"),  # shown escaped, never raw
    ("gopher\\u202e", "gopher\\u202e"),
    ("recipe-$(id)", "recipe-$(id)"),
    ("![p](http://127.0.0.1:9/x)", "![p](http://127.0.0.1:9/x)"),
    ("", ""),
    ("x" * 65, "x" * 65),
])
def test_recipe_names_are_safe_path_components(tmp_path, name, shown):
    message = error_of(write(tmp_path, f'name: "{name}"\nrules: []\n'))
    assert message == (f"name: '{shown}' is not a recipe name: use 1 to 64 lowercase letters, digits, '_' or '-' "
                       "(it names files, folders and MLflow runs)")


@pytest.mark.parametrize("name", ["gopher", "url-blocklist", "c4_v2", "x" * 64])
def test_recipe_names_of_lowercase_letters_digits_dash_and_underscore_load(tmp_path, name):
    assert load_recipe(write(tmp_path, f"name: {name}\nrules: []\n")).name == name


def test_list_folder_without_its_files(tmp_path):
    folder = tmp_path / "my-lists"
    folder.mkdir()
    (folder / "banned_words.txt").write_text("spam\n")
    path = write(tmp_path, f"name: x\nrules:\n  - rule: url_banned_word\n    lists: {folder}\n")
    assert error_of(path) == f"rules[0].lists: {folder} has no banned_subwords.txt, soft_banned_words.txt"


def test_missing_recipe_file_names_the_known_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"no_such_recipe.yaml: no such recipe file \(recipes in conf/"):
        load_recipe("no_such_recipe")


def test_recipe_names_must_be_unique(tmp_path):
    copy = write(tmp_path, (RECIPE_DIR / "gopher.yaml").read_text(), "gopher-copy.yaml")
    with pytest.raises(ConfigError, match="name: recipe name 'gopher' is also used by"):
        load_recipes(["gopher", copy])


def test_one_annotate_pass_for_all_recipes():
    specs = required_annotators(load_recipes(BUNDLED))
    by_target = {spec.name: dict(spec.kwargs) for spec in specs}
    assert by_target["C4Quality"] == {"variants": ("fineweb", "tfds")}  # c4 and fineweb recipes share it
    assert by_target["UrlBlocklist"] == {"categories": ("adult",)}
    assert by_target["FineWebQuality"] == {"after_c4": True}
    assert by_target["BadWords"] == {"language": "detected", "lexicon": "ldnoobw-c4-25e679f"}
    assert len(specs) == len(by_target) == 8
    assert required_annotators([load_recipe("raw")]) == []


def test_gopher_alone_needs_only_gopher_annotators():
    assert required_annotators([load_recipe("gopher")]) == [AnnotatorSpec.of(GopherQuality),
                                                            AnnotatorSpec.of(GopherRepetition)]


def test_conflicting_annotator_settings_fail_before_spark(tmp_path):
    one = write(tmp_path, "name: a\nrules:\n  - rule: badwords_ldnoobw\n", "a.yaml")
    two = write(tmp_path, "name: b\nrules:\n  - rule: badwords_ldnoobw\n    lexicon: ldnoobw-head-5faf2ba\n",
                "b.yaml")
    with pytest.raises(ConfigError, match="one annotate pass writes badwords_match once"):
        load_recipes([one, two])


def test_built_annotators_write_every_column_the_predicates_read():
    recipes = load_recipes(BUNDLED)
    annotators = [spec.build() for spec in required_annotators(recipes)]
    docs = sample_documents()[:40]
    batch = batch_of(docs)
    columns = {"text_chars": [doc["text_chars"] for doc in docs]}
    for annotator in annotators:
        out = annotator.annotate(batch)
        pa.RecordBatch.from_pydict(out, schema=pa.schema(annotator.schema()))  # values fit the declared types
        columns.update(out)
    for recipe in recipes:
        for entry in recipe.rules:
            assert entry.definition.column in columns, (recipe.name, entry.rule)
    rows = [{name: values[i] for name, values in columns.items()} for i in range(len(docs))]
    removed = [any(load_recipe("fineweb").removals(row).values()) for row in rows]
    assert 0 < sum(removed) < len(rows)


def test_params_for_mlflow_and_the_data_card():
    recipe = load_recipe("c4")
    params = flatten(recipe.as_params())
    assert params["rule_order"].startswith('["c4_max_length", "language", "c4_tfds_sentences"')
    assert params["rules.c4_tfds_sentences.min"] == "3"
    assert params["rules.language.languages"] == '["en"]'
    assert params["text_transform"] == "tfds" and params["dedup.placement"] == "none"
    assert recipe.kept_text_columns() == ("c4_tfds_chars", "c4_tfds_words")
    assert load_recipe("gopher").kept_text_columns() is None


def test_dedup_placement(tmp_path):
    recipe = load_recipe(write(tmp_path, "name: x\ndedup: {enabled: true, placement: before}\n"))
    assert recipe.dedup_placement() == "before" and recipe.as_params()["dedup"] == {"placement": "before"}
    enabled = load_recipe(write(tmp_path, "name: y\ndedup: {enabled: true}\n", "y.yaml"))
    assert enabled.dedup_placement() == "after"
    assert load_recipe("raw").dedup_placement() == "none"
    assert load_recipe("fineweb").dedup_placement() == "after"  # FineWeb's MinHash ran after its filters
