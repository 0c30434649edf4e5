"""Stage 2, resolution: `Project` x environment -> `Resolution` (a chain of offers per agent).

`constraints` merges the layers and checks one offer, `ranking` orders the offers of one
constraint set, `resolver` picks every chain (lock stability, pins, budgets). Pure; no IO.
"""
