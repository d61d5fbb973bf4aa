"""The argument parser every `cc-sieve` command builds, so that every `--help` shows the defaults.

An option with a default value gets argparse's "(default: X)"; an option whose value comes from elsewhere when
left out (a preset, the environment, another flag) has a default of None and says where in its own help text
(tests/unit/test_cli.py checks every command's options).
"""

from __future__ import annotations

import argparse


def has_default(action: argparse.Action) -> bool:
    """A value to show: not None, not a flag's False, not an empty list of a repeatable option."""
    default = action.default
    return not (default is None or default is False or default is argparse.SUPPRESS or default == [])


class DefaultsHelpFormatter(argparse.HelpFormatter):
    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.required or "default" in text or not has_default(action):
            return text
        return f"{text} (default: %(default)s)".lstrip()


def command_parser(prog: str, doc: str | None, **settings) -> argparse.ArgumentParser:
    """A parser for `prog` described by the first line of its module's docstring."""
    return argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n")[0],
                                   formatter_class=DefaultsHelpFormatter, **settings)
