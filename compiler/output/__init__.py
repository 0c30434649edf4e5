"""Stages 3-4, output: `Resolution` -> `openclaw.json` and its lock, written atomically.

`renderer` (the sandboxed template), `conformance` (checks OpenClaw does not do), `lockfile`
(the resolution kept for stability) and `writer` (the only file writer).
"""
