"""clawpolicy: a declarative GitOps policy compiler for the model layer of OpenClaw.

The library API lives in `compiler.api`; the CLI (`clawpolicy`, `python -m compiler`) is a thin
layer over it.
"""

__version__ = "0.1.0"
# The one place the OpenClaw release we target is pinned.
OPENCLAW_VERSION = "2026.9.6"

from .api import CompileOptions, compile_project, diff_project, validate_project  # noqa: E402
from .diagnostics import CompileError  # noqa: E402

__all__ = [
    "OPENCLAW_VERSION",
    "CompileError",
    "CompileOptions",
    "__version__",
    "compile_project",
    "diff_project",
    "validate_project",
]
