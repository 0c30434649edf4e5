"""Adoption: `clawpolicy init`, a new policy repository that compiles as it is, from the starter
(package data under `starter/`) or from a hand-written openclaw.json (`configreader` reads it,
`policywriter` says it in policy), staged, compiled and promoted by `initializer`.
"""
