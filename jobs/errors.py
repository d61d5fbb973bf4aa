"""The errors a user causes and can fix, and the one place that turns them into a line and an exit code.

None derives from ValueError: a ValueError raised inside a library is a bug to see in full, never
mistaken for a user's mistake. Three kinds:
- ConfigError: a preset, recipe, flag or setting that cannot be used (exit 2);
- InputError: an input spec that resolves to nothing usable, a file the run needs (exit 2);
- RunFailure: the run started and cannot give a result, e.g. every shard failed (exit 1).

Every command, whether started by the `cc-sieve` CLI or by spark-submit on its own module, runs
through `run_command`, which prints `cc-sieve COMMAND: message` on one line without a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable


class CcSieveError(Exception):
    """An error whose message is one line naming the thing at fault and what to do."""

    exit_code = 1


class ConfigError(CcSieveError):
    exit_code = 2


class InputError(CcSieveError):
    exit_code = 2


class RunFailure(CcSieveError):
    exit_code = 1


def run_command(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None,
                prog: str = "cc-sieve") -> int:
    """`main(argv)`'s exit code; a CcSieveError becomes one line on stderr and its exit code."""
    try:
        return main(argv) or 0
    except CcSieveError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`cc-sieve rules | head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error as Python flushes
        return 141
