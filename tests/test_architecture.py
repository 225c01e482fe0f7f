"""The architecture, checked: ``make lint`` runs the layers contract; packages meet only through their public API.

The rule for (b): a package's ``__init__`` lists in ``__all__`` the names it
defines and the submodules other packages may import from. Code in one
package may import from another only a name in that ``__all__``, or from a
listed submodule any name not starting with an underscore (the same rule again
inside a listed subpackage). Everything else is the package's own business and
may change without notice. Read statically, so nothing heavy is imported.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "tipsom"
#: Top-level modules the contract leaves unconstrained (no tipsom imports of their own).
UNCONSTRAINED = {"data", "sparkutil"}


def _packages() -> list[Path]:
    return sorted(p.parent for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE)


def _dotted(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


@cache
def _exports(package: str) -> tuple[str, ...] | None:
    """The ``__all__`` of a package's ``__init__``, or None for a plain module."""
    init = PACKAGE.parent.joinpath(*package.split("."), "__init__.py")
    if not init.exists():
        return None
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                return tuple(ast.literal_eval(node.value))
    raise AssertionError(f"{package}/__init__.py declares no __all__")


def _defined(init: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


@pytest.mark.parametrize("package", _packages(), ids=_dotted)
def test_every_package_declares_what_it_exports_and_every_export_exists(package: Path) -> None:
    exports = _exports(_dotted(package))
    assert exports is not None
    defined = _defined(package / "__init__.py")
    for name in exports:
        exists = name in defined or (package / f"{name}.py").exists() or (package / name / "__init__.py").exists()
        assert exists, f"{_dotted(package)}.__all__ names {name!r}, which is neither defined there nor a submodule"


def _imports(source: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, names) for every absolute tipsom import, function-level ones included."""
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tipsom."):
            yield node.lineno, str(node.module), [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tipsom."):
                    yield node.lineno, alias.name, []


def _violations(module: str, names: list[str], importer: str) -> Iterator[str]:
    parts = module.split(".")
    if parts[1] == importer:
        return
    for depth in range(2, len(parts) + 1):
        package = ".".join(parts[:depth])
        exports = _exports(package)
        if exports is None:  # a plain module: any public name
            yield from (f"private name {n!r} of {package}" for n in names if n.startswith("_"))
            return
        if depth < len(parts):
            if parts[depth] not in exports:
                yield f"{package}.{parts[depth]} is not in {package}.__all__"
                return
        else:
            yield from (f"{n!r} is not in {package}.__all__" for n in names if n not in exports)


def test_packages_import_from_each_other_only_what_is_exported() -> None:
    found = []
    for source in sorted(PACKAGE.rglob("*.py")):
        parts = source.relative_to(PACKAGE).parts
        importer = parts[0].removesuffix(".py")
        for line, module, names in _imports(source):
            found += [f"{source.relative_to(ROOT)}:{line}: {v}" for v in _violations(module, names, importer)]
    assert found == [], "\n".join(found)


def test_the_rule_catches_a_private_module_and_a_private_name() -> None:
    assert list(_violations("tipsom.store.opening", ["check_url"], "money"))
    assert list(_violations("tipsom.store.db", ["_private"], "money"))
    assert list(_violations("tipsom.screening", ["rules"], "web"))
    assert not list(_violations("tipsom.store.db", ["Store"], "money"))
    assert not list(_violations("tipsom.store.opening", ["check_url"], "store"))


def _contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    assert isinstance(contract, dict)
    return contract


def test_the_layers_contract_places_every_top_level_module() -> None:
    contract = _contract()
    assert contract["type"] == "layers"
    assert contract["containers"] == ["tipsom"]
    layers = contract["layers"]
    assert isinstance(layers, list)
    placed = {name.strip().strip("()") for layer in layers for name in layer.replace(":", "|").split("|")}
    modules = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
               if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists()}
    assert modules - UNCONSTRAINED <= placed, f"not in any layer: {sorted(modules - UNCONSTRAINED - placed)}"
    assert layers[-1] == "core"
    assert layers.index("store") > layers.index("exchange") > layers.index("synth")


def test_make_lint_runs_the_contract_and_it_is_kept() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/lint-imports" in recipe
    tool = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(tool), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stdout[-3000:]
