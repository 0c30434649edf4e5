"""Catalog tools: import native catalogs (`importers`), fetch them over HTTP (`fetcher`),
compare two snapshots (`catalogdiff`) and find the agents a catalog move changes (`impact`).
"""
