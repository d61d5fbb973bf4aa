"""The package layout as DESIGN.md draws it: imports point down the layers, leaves stay leaves, no cycles.

Layers, lowest first: annotators and the rule registry (cc_sieve.filters) <- recipes, presets and the
names everything shares (errors, metric names, URI redaction, jobs/config) <- shard reading (no Spark)
<- Spark stages <- tracking, report and plots <- commands. The bench, the shard generator and the
cluster tools are leaves: nothing in the layers imports them (the CLI names them by string).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from cc_sieve.filters.resources import REPO_ROOT

FOLDERS = {"cc_sieve.filters": REPO_ROOT / "filters", "cc_sieve.jobs": REPO_ROOT / "jobs"}
LAYERS = [
    ("filters", ("cc_sieve.filters",)),
    ("config", ("cc_sieve.jobs.errors", "cc_sieve.jobs.redact", "cc_sieve.jobs.metrics", "cc_sieve.jobs.config")),
    ("reading", ("cc_sieve.jobs.reading",)),
    ("spark", ("cc_sieve.jobs.spark",)),
    ("tracking", ("cc_sieve.jobs.tracking",)),
    ("commands", ("cc_sieve.jobs.commands",)),
]
LEAVES = ("cc_sieve.jobs.bench", "cc_sieve.jobs.generator", "cc_sieve.jobs.cluster")
FORBIDDEN_IN_FILTERS = ("pyspark", "boto3", "botocore", "mlflow")


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = modules()


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at the top level of the file) for every import statement."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found += [(name if name in MODULES else node.module, id(node) in top) for name in names]
    return found


def layer_of(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return index
    return None


def is_leaf(module: str) -> bool:
    return any(module == leaf or module.startswith(leaf + ".") for leaf in LEAVES)


GRAPH = {module: sorted({name for name, _ in imports(path) if name in MODULES} - {module})
         for module, path in MODULES.items()}


def test_every_module_is_in_a_layer_or_a_leaf():
    assert [m for m in MODULES if layer_of(m) is None and not is_leaf(m) and m not in FOLDERS] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_and_never_to_a_leaf(module):
    own = layer_of(module)
    for imported in GRAPH[module]:
        if own is None:
            continue  # a leaf may use anything
        assert not is_leaf(imported), f"{module} imports the leaf {imported}"
        assert layer_of(imported) <= own, (f"{module} ({LAYERS[own][0]}) imports {imported} "
                                           f"({LAYERS[layer_of(imported)][0]}), a higher layer")


def test_no_import_cycle():
    visiting, done, cycles = set(), set(), []

    def visit(module: str, path: list[str]) -> None:
        if module in done:
            return
        if module in visiting:
            cycles.append(path[path.index(module):] + [module])
            return
        visiting.add(module)
        for imported in GRAPH[module]:
            visit(imported, [*path, module])
        visiting.discard(module)
        done.add(module)

    for module in MODULES:
        visit(module, [])
    assert cycles == []


def test_filters_are_pure_python_and_nothing_imports_the_old_top_level_names():
    for module, path in MODULES.items():
        names = [name for name, _ in imports(path)]
        assert not any(name.split(".")[0] in ("filters", "jobs") for name in names), module
        if module.startswith("cc_sieve.filters"):
            assert not any(name.split(".")[0] in FORBIDDEN_IN_FILTERS for name in names), module


def test_project_and_spark_imports_sit_at_the_top_of_the_file():
    nested = [(module, name) for module, path in MODULES.items() for name, top in imports(path)
              if not top and name.split(".")[0] in ("cc_sieve", "pyspark")]
    assert nested == []


def test_every_package_folder_is_listed_for_the_wheel():
    declared = set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert declared == packages
