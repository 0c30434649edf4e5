"""The GitOps loop over compiled outputs: diff against a git ref, promote, what-if.

`gitref` reads the old side, `differ` compares it with a fresh compile into a `DiffReport`
(`diffreport` formats it), `promoter` moves one environment's chains into another, `whatif`
reports the impact of an outage or a retirement.
"""
