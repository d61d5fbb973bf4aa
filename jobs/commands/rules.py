"""`cc-sieve rules [NAME]`: the filter rules a recipe can name, with their sources, settings and defaults.

Every rule of the registry (filters/registry.py): when it removes a document, the thresholds a recipe may set
and their defaults, the signal it reads and the annotator that writes it, where the rule was published, how
this implementation reads it, and the bundled recipes that use it. NAME is a rule or a family of rules.
Plain text for a terminal, wrapped to its width.
"""

from __future__ import annotations

import difflib
import shutil
import sys
import textwrap

from cc_sieve.filters.registry import RULES, IngestColumns, Rule
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.config.recipes import known_recipes, load_recipe
from cc_sieve.jobs.errors import ConfigError, run_command

LABEL = 12  # width of the labels before each field ("settings:", "source:", ...)


def terminal_width() -> int:
    """The terminal's width, kept readable: between 60 and 120 columns (100 when not a terminal)."""
    return max(60, min(120, shutil.get_terminal_size((100, 24)).columns))


def field(label: str, text: str, width: int) -> str:
    """`  label:     text`, the text wrapped under itself."""
    indent = " " * (LABEL + 2)
    return textwrap.fill(text, width, initial_indent=f"  {label + ':':<{LABEL}}", subsequent_indent=indent,
                         break_on_hyphens=False)


def number(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def removes_when(rule: Rule) -> str:
    """When the rule removes a document, at its default settings."""
    column, low, high = rule.column, rule.default_min, rule.default_max
    if rule.kind == "flag":
        when = f"{column} is true"
    elif rule.kind == "language":
        when = f"{column} not in [{', '.join(rule.default_languages)}] or language_score < {number(low)} (defaults)"
    elif low is not None and high is not None:
        when = f"{column} outside [{number(low)}, {number(high)}] (defaults)"
    else:
        when = f"{column} < {number(low)} (default)" if low is not None else f"{column} > {number(high)} (default)"
    return f"{when}; a document without a value is {'removed' if rule.null_removes else 'kept'}"


def settings(rule: Rule) -> str:
    """What a recipe entry may set for the rule, with the defaults."""
    parts = []
    if rule.kind == "range":
        parts += [f"min (default {number(rule.default_min)})", f"max (default {number(rule.default_max)})"]
    if rule.kind == "language":
        parts += [f"languages (default [{', '.join(rule.default_languages)}])",
                  f"min: least language_score (default {number(rule.default_min)})"]
    parts += [f"{name} (default {option.default})" for name, option in rule.options.items()]
    return "; ".join(parts) or "none: a flag removes the document when it is true"


def reads(rule: Rule) -> str:
    signal = rule.signal
    described = f"{signal.name} ({signal.domain}{': ' + signal.description if signal.description else ''})"
    if rule.measured_by:
        return f"{described}, written by the benchmark's {rule.measured_by} measurement ({rule.measured_by}.* settings)"
    if rule.provider is IngestColumns:
        return f"{described}, written by the ingest"
    kwargs = ", ".join(f"{key}={value!r}" for key, value in rule.provider_kwargs)
    return f"{described}, written by the annotator {rule.provider.__name__}" + (f"({kwargs})" if kwargs else "")


def recipes_using() -> dict[str, list[str]]:
    """Rule name -> the bundled recipes (conf/recipes) that name it."""
    users: dict[str, list[str]] = {}
    for name in known_recipes():
        for rule in load_recipe(name).rule_names():
            users.setdefault(rule, []).append(name)
    return users


def describe(rule: Rule, users: list[str], width: int) -> str:
    lines = [f"{rule.name}  [{rule.kind} rule, family {rule.family}]",
             field("removes", removes_when(rule), width),
             field("settings", settings(rule), width),
             field("reads", reads(rule), width),
             field("source", rule.source or "-", width)]
    if rule.note:
        lines.append(field("note", rule.note, width))
    if rule.uses:
        lines.append(field("lists", ", ".join(rule.uses), width))
    lines.append(field("recipes", ", ".join(users) or "none of the bundled ones", width))
    return "\n".join(lines)


def selected(name: str | None) -> list[Rule]:
    """Every rule, the rule NAME, or the rules of the family NAME; a ConfigError naming the closest rule."""
    if name is None:
        return list(RULES.values())
    if name in RULES:
        return [RULES[name]]
    family = [rule for rule in RULES.values() if rule.family == name]
    if family:
        return family
    families = sorted({rule.family for rule in RULES.values()})
    close = difflib.get_close_matches(name, [*RULES, *families], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"{name!r}: no such rule or family{hint}; families: {', '.join(families)}")


def listing(rules: list[Rule], width: int) -> str:
    users = recipes_using()
    blocks = []
    for family in dict.fromkeys(rule.family for rule in rules):
        members = [rule for rule in rules if rule.family == family]
        if len(rules) > 1:
            blocks.append(f"== {family} ({len(members)} rule{'s' if len(members) > 1 else ''})")
        blocks += [describe(rule, users.get(rule.name, []), width) for rule in members]
    return "\n\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve rules", __doc__)
    parser.add_argument("name", nargs="?", help="a rule or a family of rules (default: every rule)")
    args = parser.parse_args(argv)
    rules, width = selected(args.name), terminal_width()
    if args.name is None:
        print(textwrap.fill(f"{len(rules)} rules. A recipe (conf/recipes/*.yaml, `cc-sieve recipes`) lists rules by "
                            "name with their settings; `cc-sieve rules NAME` shows one rule or family.", width) + "\n")
    print(listing(rules, width))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve rules"))
