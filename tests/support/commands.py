"""How the tests run the command line: the same entry point as the installed `cc-sieve` script."""

import sys

CC_SIEVE = [sys.executable, "-m", "cc_sieve.jobs.commands.cli"]
