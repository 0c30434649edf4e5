"""The bad-input corpus as data: one row per case (`case.Case`), in two tables by what they
attack. Each row is what an attacker (or a careless author) puts in a pull request or on a
command line, the command CI runs, and what must happen: the exit code, the diagnostic code and
where it points. `tests/test_badinput.py` runs every row and checks, beyond the row, that no
traceback is printed, nothing is written under `rendered/` or outside the repository (unless
the row allows it), and no planted secret appears in any output or written file.
"""

from . import command_cases, policy_cases
from .case import Case, Response

CASES: tuple[Case, ...] = (*policy_cases.CASES, *command_cases.CASES)

__all__ = ["CASES", "Case", "Response"]
