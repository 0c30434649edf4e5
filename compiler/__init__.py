"""clawpolicy: a declarative GitOps policy compiler for the model layer of OpenClaw.

The library API lives in `compiler.api` (compile, validate) and `compiler.gitops.api` (diff,
promote); the names below are re-exported lazily, so importing `compiler` (as `clawpolicy
--help` does) loads neither pydantic nor jinja2. The CLI (`clawpolicy`, `python -m compiler`)
is a thin layer over the API.
"""

from typing import Any

__version__ = "0.2.0"
# The one place the OpenClaw releases we target are pinned: an environment's `openclaw_version`
# is one of OPENCLAW_VERSIONS (default OPENCLAW_VERSION); each has its JSON Schema vendored in
# compiler/output/schemas/.
OPENCLAW_VERSION = "2026.9.6"
OPENCLAW_VERSIONS = ("2026.8.1", "2026.9.6")

_EXPORTS = {
    "CompileOptions": "compiler.api",
    "compile_project": "compiler.api",
    "validate_project": "compiler.api",
    "DiffOptions": "compiler.gitops.api",
    "diff_project": "compiler.gitops.api",
    "promote_project": "compiler.gitops.api",
    "CompileError": "compiler.diagnostics",
}


def __getattr__(name: str) -> Any:
    """Import an exported name on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'compiler' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    return getattr(importlib.import_module(_EXPORTS[name]), name)


__all__ = [  # noqa: RUF022 (the library names, then the constants)
    "CompileError",
    "CompileOptions",
    "DiffOptions",
    "compile_project",
    "diff_project",
    "promote_project",
    "validate_project",
    "OPENCLAW_VERSION",
    "OPENCLAW_VERSIONS",
    "__version__",
]
