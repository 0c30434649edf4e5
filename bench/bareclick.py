"""A bare click app of clawpolicy's shape, for `--help` comparisons (bench/run.py).

    python bench/bareclick.py --help

A group with a nested group and a dozen commands carrying options, and nothing imported but
click: the cost a click CLI cannot go below.
"""

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.0.0", prog_name="bareclick")
def main_group() -> None:
    """A bare click app with clawpolicy's command layout."""


@main_group.group("catalog")
def catalog() -> None:
    """A nested group, like `clawpolicy catalog`."""


def _command(name: str) -> click.Command:
    @click.option("--root", type=click.Path(file_okay=False), default=".", show_default=True)
    @click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
    @click.option("-q", "--quiet", is_flag=True)
    @click.option("--no-color", is_flag=True)
    @click.option("--env", "envs", multiple=True)
    def command(**_: object) -> None:
        """A command with the shared options."""

    return click.command(name)(command)


for _name in ("validate", "compile", "explain", "diff", "promote", "what-if", "schema"):
    main_group.add_command(_command(_name))
for _name in ("import", "fetch", "diff"):
    catalog.add_command(_command(_name))

if __name__ == "__main__":
    main_group(prog_name="bareclick")
