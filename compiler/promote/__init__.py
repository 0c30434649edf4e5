"""Promotion, the only way an environment with `promote_from` changes.

`promoter` maps the source's locked chains onto the target and checks them against the
target's policy; `running` reads back what a promoted environment runs from its committed
files; `pending` says what the next promotion would change. `compile` never resolves or
renders a promoted environment: it reports it as pending.
"""
