"""Architecture checks: the modules README's "Architecture" section names exist, the pipeline
modules do not import the CLI or the wrapped libraries, each volatile dependency has exactly one
user, and every module says what it is."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "compiler"
MODULES = sorted(
    path.relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
    for path in PACKAGE.rglob("*.py")
)
# The command line and the one wrapper of each library may import it; nothing else may.
CLI = re.compile(r"^compiler\.(cli(\.\w+)?|__main__)$")
WRAPPERS = {"git": "compiler.gitops.gitref", "deepdiff": "compiler.gitops.differ"}
ONLY_USER = {
    "click": CLI,
    "git": re.compile(r"^compiler\.gitops\.gitref$"),
    "deepdiff": re.compile(r"^compiler\.gitops\.differ$"),
    "jinja2": re.compile(r"^compiler\.output\.renderer$"),
    "yaml": re.compile(r"^compiler\.load\.yamlsource$"),
    "urllib": re.compile(r"^compiler\.catalogs\.fetcher$"),
}


def architecture_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Architecture\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "README.md has no '## Architecture' section"
    return match.group(1)


def test_modules_named_in_the_readme_exist() -> None:
    named = sorted(set(re.findall(r"`(compiler/[\w/]+?(?:\.py|/))`", architecture_section())))
    assert len(named) >= 10, named
    missing = [name for name in named if not (REPO / name).exists()]
    assert not missing


def test_core_modules_import_without_click_git_or_deepdiff() -> None:
    # the GitOps API orchestrates the two wrappers; only the GitOps commands import it
    uses_wrappers = {*WRAPPERS.values(), "compiler.gitops.api"}
    core = [m for m in MODULES if not CLI.match(m) and m not in uses_wrappers]
    assert {"compiler.api", "compiler.resolve.resolver", "compiler.output.renderer"} <= set(core)
    script = "\n".join(
        [
            "import importlib, sys",
            "for name in ('click', 'git', 'deepdiff'):",
            "    sys.modules[name] = None  # any import of them now raises ImportError",
            "failed = []",
            f"for module in {core!r}:",
            "    try:",
            "        importlib.import_module(module)",
            "    except ImportError as exc:",
            "        failed.append(f'{module}: {exc}')",
            "print('\\n'.join(failed))",
            "sys.exit(1 if failed else 0)",
        ]
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_blocking_works(tmp_path: Path) -> None:
    """The blocking trick itself: a module that imports click fails to import."""
    (tmp_path / "uses_click.py").write_text("import click\n")
    script = "import sys; sys.modules['click'] = None; import uses_click"
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, timeout=60, check=False
    )
    assert completed.returncode == 1
    assert b"import of click halted" in completed.stderr


def imported_packages(module: str) -> set[str]:
    """Top-level names of the absolute imports in a module, wherever they are (lazy ones too)."""
    path = REPO / (module.replace(".", "/") + ".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ONLY_USER))
def test_each_wrapped_library_has_one_user(package: str) -> None:
    users = [m for m in MODULES if package in imported_packages(m)]
    strays = [m for m in users if not ONLY_USER[package].match(m)]
    assert not strays, f"{package} is imported by {strays}"


@pytest.mark.parametrize("module", MODULES)
def test_every_module_has_a_docstring(module: str) -> None:
    path = REPO / (module.replace(".", "/") + ".py")
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and docstring.strip(), f"{path.relative_to(REPO)} has no module docstring"


# The pipeline's layers, lowest first: a module imports only from its own layer or below.
LAYERS = (
    re.compile(r"^compiler(\.diagnostics|\.jsontext|\.redaction)?$"),
    re.compile(r"^compiler\.load(\.\w+)*$"),
    re.compile(r"^compiler\.resolve(\.\w+)*$"),
    re.compile(r"^compiler\.output(\.\w+)*$"),
    re.compile(r"^compiler\.promote(\.\w+)*$"),
    re.compile(r"^compiler\.api$"),
    re.compile(r"^compiler\.(gitops|catalogs|adopt)(\.\w+)*$|^compiler\.(explainer|costreport)$"),
    re.compile(r"^compiler\.cli(\.\w+)*$|^compiler\.__main__$"),
)


def layer_of(module: str) -> int:
    found = [index for index, pattern in enumerate(LAYERS) if pattern.match(module)]
    assert len(found) == 1, f"{module} is in {len(found)} layers"
    return found[0]


def compiler_imports(module: str) -> set[str]:
    """The compiler modules (or packages) a module imports, lazy imports included."""
    path = REPO / (module.replace(".", "/") + ".py")
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    if path.name == "__init__.py":
        package = module.removesuffix(".__init__").split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names if not node.module else [None]:
                name = f"{target}.{alias.name}" if alias is not None else target
                found.add(name if _is_module(name) else target)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("compiler"):
            found.add(str(node.module))
    return found


def _is_module(name: str) -> bool:
    path = REPO / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


@pytest.mark.parametrize("module", [m.removesuffix(".__init__") for m in MODULES])
def test_imports_point_down_the_layers(module: str) -> None:
    own = layer_of(module)
    is_file = (REPO / (module.replace(".", "/") + ".py")).exists()
    source = module if is_file else module + ".__init__"
    upward = sorted(m for m in compiler_imports(source) if layer_of(m) > own)
    assert not upward, f"{module} (layer {own}) imports {upward} from a higher layer"


def test_every_diagnostic_code_used_is_in_the_table() -> None:
    from compiler.diagnostics import CODES

    used = {
        code
        for path in PACKAGE.rglob("*.py")
        for code in re.findall(r"\"(PC\d{3})\"", path.read_text(encoding="utf-8"))
    }
    assert used, "no codes found: the pattern is wrong"
    assert sorted(used - set(CODES)) == []
