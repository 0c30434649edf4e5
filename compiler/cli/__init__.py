"""The `clawpolicy` command line: flags in, `compiler.api` calls, text and an exit code out.

`main` holds the command group and the core commands, `base` what every command shares
(options, output, exit codes), `catalog` and `gitops` their command groups. Nothing is imported
here, so `clawpolicy --help` loads only what it needs.
"""
