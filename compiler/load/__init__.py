"""Stages 0-1, reading: policy files and catalog snapshots -> a checked, immutable `Project`.

`yamlsource` (YAML with a span per node) -> `filereader` (one file: text, digest, spec) ->
`loader` (every file, cross-file checks) with `catalogloader` (the snapshots an environment
lists). `spec` holds the input schemas, `project` and `catalog` the values the stage produces.
"""
