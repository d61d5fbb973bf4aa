"""`cc-sieve recipes [NAME]`: the recipes in conf/recipes, each with its description and rules.

A recipe's rules are listed in its order (the first rule that removes a document is the one its removal is
counted under) with the settings it applies; a setting that differs from the rule's default says so.
NAME is a recipe name or a recipe file. `cc-sieve rules RULE` describes a rule.
"""

from __future__ import annotations

import sys
import textwrap

from cc_sieve.filters.resources import REPO_ROOT
from cc_sieve.jobs.commands.parsers import command_parser
from cc_sieve.jobs.commands.rules import field, terminal_width
from cc_sieve.jobs.config.recipes import Recipe, RuleEntry, known_recipes, load_recipe
from cc_sieve.jobs.errors import run_command

PLACEMENTS = {"none": "not removed", "before": "removed before the rules (the rules see one copy of each)",
              "after": "removed among the documents the rules keep"}


def shown(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def entry_settings(entry: RuleEntry) -> str:
    """The settings the recipe applies, and the default of each that differs: "min 3 (default 5), max 100000";
    a bound that is unset at its default is left out."""
    rule, parts = entry.definition, []
    defaults = {"min": rule.default_min, "max": rule.default_max, "languages": list(rule.default_languages),
                **{name: option.default for name, option in rule.options.items()}}
    for name, value in entry.settings().items():
        default = defaults.get(name)
        if value is None and default is None:
            continue
        parts.append(f"{name} {shown(value)}" + ("" if value == default else f" (default {shown(default)})"))
    return ", ".join(parts) or "flag"


def describe(recipe: Recipe, width: int) -> str:
    path = recipe.path.resolve() if recipe.path else None
    where = path.relative_to(REPO_ROOT) if path and path.is_relative_to(REPO_ROOT) else path
    lines = [f"{recipe.name}  [{where}]"]
    if recipe.description:
        lines.append(textwrap.fill(" ".join(recipe.description.split()), width, initial_indent="  ",
                                   subsequent_indent="  "))
    if recipe.rules:
        column = max(len(entry.rule) for entry in recipe.rules)
        lines.append("  rules, in order:")
        for entry in recipe.rules:
            lines.append(textwrap.fill(entry_settings(entry), width, initial_indent=f"    {entry.rule:<{column}}  ",
                                       subsequent_indent=" " * (column + 6)))
    else:
        lines.append("  rules: none (keeps every document)")
    lines.append(field("duplicates", PLACEMENTS[recipe.dedup_placement()], width))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser("cc-sieve recipes", __doc__)
    parser.add_argument("name", nargs="?", help="a recipe name or YAML file (default: every recipe in conf/recipes)")
    args = parser.parse_args(argv)
    recipes = [load_recipe(args.name)] if args.name else [load_recipe(name) for name in known_recipes()]
    print("\n\n".join(describe(recipe, terminal_width()) for recipe in recipes))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main, prog="cc-sieve recipes"))
