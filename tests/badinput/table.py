"""The bad-input corpus as data: one row per case (`case.Case`), in two tables by what they
attack. Each row is what an attacker (or a careless author) puts in a pull request or on a
command line, the command CI runs, and what must happen: the exit code, the diagnostic code and
where it points. `tests/test_badinput.py` runs every row and checks, beyond the row, that no
traceback is printed, nothing is written under `rendered/` or outside the repository (unless
the row allows it), and no planted secret appears in any output or written file.

Rows left out until the lead's lock format v2 lands (lockfile.parse refusing every malformed
shape and a lock of another environment): a lock whose "environment" is another one's, a lock
whose agents/tiers/defaults are lists or strings.
"""

from . import command_cases, policy_cases
from .case import Case, Response

CASES: tuple[Case, ...] = (*policy_cases.CASES, *command_cases.CASES)

__all__ = ["CASES", "Case", "Response"]
