"""Print docs/codes.md, the reference page of every diagnostic code, from `CODES` in
compiler/diagnostics.py:

    python scripts/codes_md.py > docs/codes.md

tests/test_codes.py fails while the committed page differs from what this prints.
"""

import sys

from compiler.diagnostics import format_code_reference

if __name__ == "__main__":
    sys.stdout.write(format_code_reference())
