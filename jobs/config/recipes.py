"""Recipes (conf/recipes/*.yaml): named filter rules with thresholds, validated before Spark starts.

    name: gopher
    description: Gopher's quality and repetition filters (Rae et al. 2021)
    rules:
      - rule: gopher_word_count      # a name from filters/rules.py RULES
        min: 50
        max: 100000
      - rule: gopher_stop_words      # no min/max: the registry's default threshold
      - rule: language
        languages: [en]
        min: 0.65
    dedup: {enabled: true, placement: after}   # near-duplicates removed among the kept documents

A threshold written as null removes that bound (`max: null`). Every mistake gives one line naming
the file, the key and what is allowed, e.g. `conf/recipes/bad.yaml: rules[2].rule: unknown rule
'gopher_wordcount' (did you mean 'gopher_word_count'?); known: ...`.

A recipe evaluates as Spark SQL: `removal_predicates()` gives, per rule, an expression that is
TRUE when the rule removes the document; a NULL signal is settled by the rule's `null_removes`
(filters/rules.py), so no predicate is ever NULL. `required_annotators(recipes)` lists the
annotators (and their variants) one annotate pass must run for all selected recipes.
No pyspark import here.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cc_sieve.filters.base import AnnotatorSpec
from cc_sieve.filters.lexicons import available_languages
from cc_sieve.filters.quality import C4_VARIANTS
from cc_sieve.filters.registry import RULES, Rule
from cc_sieve.filters.resources import REPO_ROOT, data_path
from cc_sieve.jobs.config.loading import load_model
from cc_sieve.jobs.errors import ConfigError
from cc_sieve.jobs.redact import printable

RECIPE_DIR = REPO_ROOT / "conf" / "recipes"
THRESHOLD_KEYS = {"flag": set(), "range": {"min", "max"}, "language": {"min", "languages"}}
OPTION_FOLDERS = {"lexicon": "lexicons/", "lists": ""}
OPTION_FILES = {"lexicon": ("en",),
                "lists": ("banned_words.txt", "banned_subwords.txt", "soft_banned_words.txt")}
# A recipe's name becomes a file name, a folder and an MLflow run name: nothing that can climb out of a
# folder, hide a character or mean something to a shell, a URL or Markdown.
RECIPE_NAME = re.compile(r"[a-z0-9_-]{1,64}")


class RecipeDedup(BaseModel):
    """Whether a recipe removes near-duplicates, and whether before or after its rules. How duplicates are
    found (MinHash parameters, scope, survivor) is the benchmark's dedup stage, shared by every recipe."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    placement: Literal["before", "after"] = "after"


class RuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    min: float | None = None
    max: float | None = None
    languages: list[str] | None = None
    lexicon: str | None = None
    lists: str | None = None
    language: str | None = None

    @property
    def definition(self) -> Rule:
        return RULES[self.rule]

    def bound(self, which: str) -> float | None:
        """The threshold as written, the registry default when absent, none when written as null."""
        if which in self.model_fields_set:
            return getattr(self, which)
        return getattr(self.definition, f"default_{which}")

    def allowed_languages(self) -> tuple[str, ...]:
        return tuple(self.languages) if self.languages is not None else self.definition.default_languages

    def option(self, name: str) -> str:
        value = getattr(self, name)
        return value if value is not None else self.definition.options[name].default

    def settings(self) -> dict[str, Any]:
        """The thresholds and options as applied (for MLflow params and the data card)."""
        rule = self.definition

        def shown(value: float | None) -> float | int | None:
            return int(value) if value is not None and rule.integer and float(value).is_integer() else value

        settings: dict[str, Any] = {}
        if rule.kind != "flag":
            settings["min"] = shown(self.bound("min"))
        if rule.kind == "range":
            settings["max"] = shown(self.bound("max"))
        if rule.kind == "language":
            settings["languages"] = list(self.allowed_languages())
        for name in rule.options:
            settings[name] = self.option(name)
        return settings


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    rules: list[RuleEntry] = Field(default_factory=list)
    dedup: RecipeDedup = Field(default_factory=RecipeDedup)
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("name")
    @classmethod
    def name_is_a_safe_path_component(cls, name: str) -> str:
        if not RECIPE_NAME.fullmatch(name):
            raise ValueError(f"'{printable(name)[:80]}' is not a recipe name: use 1 to 64 lowercase letters, "
                             "digits, '_' or '-' (it names files, folders and MLflow runs)")
        return name

    def rule_names(self) -> list[str]:
        return [entry.rule for entry in self.rules]

    def removal_predicates(self) -> dict[str, str]:
        """Rule name -> Spark SQL boolean, TRUE when the rule removes the document (never NULL)."""
        return {entry.rule: removal_predicate(entry) for entry in self.rules}

    def removals(self, row: dict[str, Any]) -> dict[str, bool]:
        """The same decisions in Python for one row of annotations (tests, benches, small samples)."""
        return {entry.rule: removes(entry, row) for entry in self.rules}

    def text_transform(self) -> str | None:
        """The C4 variant whose line cleaning this recipe applies to the text, if any."""
        variants = sorted(set(filter(None, map(c4_variant_of, self.rule_names()))))
        return variants[0] if variants else None

    def kept_text_columns(self) -> tuple[str, str] | None:
        """(chars, words) columns of the text this recipe keeps when it cleans lines, else None."""
        variant = self.text_transform()
        return (f"c4_{variant}_chars", f"c4_{variant}_words") if variant else None

    def dedup_placement(self) -> str:
        """"none", "before" (dedup, then rules) or "after" (rules, then dedup among the kept)."""
        return self.dedup.placement if self.dedup.enabled else "none"

    def as_params(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "file": str(self.path or ""),
                "rule_order": self.rule_names(),
                "rules": {entry.rule: entry.settings() for entry in self.rules},
                "text_transform": self.text_transform() or "none",
                "dedup": {"placement": self.dedup_placement()}}


def c4_variant_of(rule_name: str) -> str | None:
    if rule_name.startswith("fineweb_c4_"):
        return "fineweb"
    for variant in C4_VARIANTS:
        if rule_name.startswith(f"c4_{variant}_"):
            return variant
    return None


# ---------------------------------------------------------------------------------------------
# SQL

def sql_number(value: float, integer: bool) -> str:
    if integer and float(value).is_integer():
        return str(int(value))
    return f"{float(value)!r}D"  # a DOUBLE literal (0.1 alone is a DECIMAL in Spark SQL)


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def removal_predicate(entry: RuleEntry) -> str:
    rule = entry.definition
    column = f"`{rule.column}`"
    if_null = "true" if rule.null_removes else "false"
    if rule.kind == "flag":
        return f"coalesce({column}, {if_null})"
    conditions = []
    if rule.kind == "language":
        codes = ", ".join(sql_string(code) for code in entry.allowed_languages())
        conditions.append(f"{column} IN ({codes})")
        column = f"`{rule.score_column}`"
    low, high = entry.bound("min"), entry.bound("max") if rule.kind == "range" else None
    if low is not None:
        conditions.append(f"{column} >= {sql_number(low, rule.integer)}")
    if high is not None:
        conditions.append(f"{column} <= {sql_number(high, rule.integer)}")
    return f"coalesce(NOT ({' AND '.join(conditions)}), {if_null})"


def removes(entry: RuleEntry, row: dict[str, Any]) -> bool:
    """`removal_predicate` evaluated in Python on one row (a dict of annotation columns)."""
    rule = entry.definition
    value = row.get(rule.column)
    if value is None:
        return rule.null_removes
    if rule.kind == "flag":
        return bool(value)
    if rule.kind == "language":
        if value not in entry.allowed_languages():
            return True
        value = row.get(rule.score_column)
        if value is None:
            return rule.null_removes
    low, high = entry.bound("min"), entry.bound("max") if rule.kind == "range" else None
    return (low is not None and value < low) or (high is not None and value > high)


# ---------------------------------------------------------------------------------------------
# Loading and validation

def resolve_recipe_path(path_or_name: str | Path) -> Path:
    """A bare name ("gopher") means conf/recipes/gopher.yaml; anything else is a path."""
    text = str(path_or_name)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or "/" in text or path.is_file():
        return path
    return RECIPE_DIR / f"{text}.yaml"


def known_recipes() -> list[str]:
    return sorted(path.stem for path in RECIPE_DIR.glob("*.yaml"))


def load_recipe(path_or_name: str | Path) -> Recipe:
    path = resolve_recipe_path(path_or_name)
    if not path.is_file():
        raise ConfigError(f"{path}: no such recipe file (recipes in {RECIPE_DIR.relative_to(REPO_ROOT)}: "
                          f"{', '.join(known_recipes())})")
    recipe = load_model(Recipe, path, "name, description, rules", {"path": path})
    check_recipe(recipe, path)
    return recipe


def load_recipes(paths_or_names: Iterable[str | Path]) -> list[Recipe]:
    recipes = [load_recipe(item) for item in paths_or_names]
    seen: dict[str, Path | None] = {}
    for recipe in recipes:
        if recipe.name in seen:
            raise ConfigError(f"{recipe.path}: name: recipe name {recipe.name!r} is also used by "
                              f"{seen[recipe.name]}; names must be unique (they name the MLflow runs)")
        seen[recipe.name] = recipe.path
    required_annotators(recipes)  # conflicting annotator settings across recipes fail here, before Spark
    return recipes


def check_recipe(recipe: Recipe, path: Path) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(recipe.rules):
        where = f"{path}: rules[{index}]"
        if entry.rule not in RULES:
            close = difflib.get_close_matches(entry.rule, RULES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}.rule: unknown rule {entry.rule!r}{hint}; known: {', '.join(RULES)}")
        if entry.rule in seen:
            raise ConfigError(f"{where}.rule: rule {entry.rule!r} is already listed at "
                              f"rules[{seen[entry.rule]}]")
        seen[entry.rule] = index
        check_entry(entry, where)
    variants = sorted(set(filter(None, map(c4_variant_of, recipe.rule_names()))))
    if len(variants) > 1:
        raise ConfigError(f"{path}: rules: C4 rules of variants {', '.join(variants)} in one recipe; a "
                          "recipe cleans its text one way: use the rules of one variant")


def check_entry(entry: RuleEntry, where: str) -> None:
    rule = entry.definition
    written = entry.model_fields_set - {"rule"}
    allowed = THRESHOLD_KEYS[rule.kind] | set(rule.options)
    for key in sorted(written - allowed):
        takes = ", ".join(sorted(allowed)) or "nothing but its name"
        what = "a flag (removes when true)" if rule.kind == "flag" else f"a {rule.kind} rule"
        raise ConfigError(f"{where}.{key}: rule {rule.name!r} is {what} and takes no {key!r}; "
                          f"it takes: {takes}")
    for which in ("min", "max"):
        value = entry.bound(which) if which in allowed else None
        if value is None:
            continue
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{where}.{which}: {value} is impossible: {rule.column} is never negative")
        if rule.fraction and value > 1:
            raise ConfigError(f"{where}.{which}: {value} is impossible: {rule.column} is a fraction "
                              "in [0, 1]")
        if rule.integer and not float(value).is_integer():
            raise ConfigError(f"{where}.{which}: {value} must be a whole number: {rule.column} is a count")
    low, high = entry.bound("min"), entry.bound("max") if rule.kind == "range" else None
    if low is not None and high is not None and low > high:
        raise ConfigError(f"{where}.min: min {low:g} is greater than max {high:g}: the rule would "
                          "remove everything")
    if rule.kind == "range" and low is None and high is None:
        raise ConfigError(f"{where}: rule {rule.name!r} has neither min nor max: it would remove nothing")
    if rule.kind == "language" and not entry.allowed_languages():
        raise ConfigError(f"{where}.languages: name at least one language code (e.g. [en])")
    for name, option in rule.options.items():
        value = entry.option(name)
        if option.is_path:
            check_list_folder(f"{where}.{name}", name, value)
    if "language" in rule.options:
        language, lexicon = entry.option("language"), entry.option("lexicon")
        codes = available_languages(lexicon)
        if language not in ("detected", "declared", *codes):
            raise ConfigError(f"{where}.language: {language!r}: use detected, declared or a language of "
                              f"{lexicon} ({', '.join(codes)})")


def check_list_folder(where: str, option: str, value: str) -> None:
    try:
        folder = data_path(OPTION_FOLDERS[option] + value)
    except FileNotFoundError as error:
        raise ConfigError(f"{where}: list {value!r} not found: {error}") from None
    missing = [name for name in OPTION_FILES[option] if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"{where}: {folder} has no {', '.join(missing)}")


# ---------------------------------------------------------------------------------------------
# Annotators

def annotator_need(entry: RuleEntry) -> tuple[type, dict[str, Any]] | None:
    rule = entry.definition
    if rule.annotator is None:
        return None
    kwargs = dict(rule.provider_kwargs)
    for name, option in rule.options.items():
        kwargs[option.kwarg] = entry.option(name)
    return rule.annotator, kwargs


def required_annotators(recipes: Iterable[Recipe]) -> list[AnnotatorSpec]:
    """One spec per annotator configuration the recipes need, variants merged (C4 tfds + fineweb
    in one C4Quality, UT1 categories in one UrlBlocklist), in a stable order (by class name)."""
    groups: dict[tuple, dict[str, set]] = {}
    columns: dict[str, tuple[tuple, str]] = {}
    for recipe in recipes:
        for entry in recipe.rules:
            need = annotator_need(entry)
            if need is None:
                continue
            target, kwargs = need
            scalars = tuple(sorted((k, v) for k, v in kwargs.items() if not isinstance(v, tuple)))
            key = (target, scalars)
            column = entry.definition.column
            if column in columns and columns[column][0] != key:
                other = columns[column][1]
                raise ConfigError(f"{recipe.path}: rules[{recipe.rules.index(entry)}]: {entry.rule} needs "
                                  f"{target.__name__} with {dict(scalars)}, but {other} needs it with "
                                  f"{dict(columns[column][0][1])}; one annotate pass writes {column} once")
            columns[column] = (key, f"{recipe.path} ({entry.rule})")
            merged = groups.setdefault(key, {})
            for name, value in kwargs.items():
                if isinstance(value, tuple):
                    merged.setdefault(name, set()).update(value)
    specs = []
    for (target, scalars), lists in sorted(groups.items(), key=lambda item: (item[0][0].__name__, repr(item[0][1]))):
        specs.append(AnnotatorSpec.of(target, **dict(scalars), **{k: sorted(v) for k, v in lists.items()}))
    return specs
