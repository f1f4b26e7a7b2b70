"""The image installs termgate with `uv sync --frozen --no-dev`: every package the product imports
must then be there, i.e. in the locked closure of termgate's own dependencies, not only in the dev
group (httpx once was, and `serve` died on its first import in such an install)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure() -> set[str]:
    """Names of the locked packages a `--no-dev` install of termgate holds."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {normal(package["name"]): package for package in lock["package"]}
    wanted, seen = ["termgate"], set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        for dependency in packages[name].get("dependencies", []):
            target = normal(dependency["name"])
            wanted.append(target)
            optional = packages[target].get("optional-dependencies", {})
            for extra in dependency.get("extra", []):  # granian[uvloop]
                wanted += [normal(item["name"]) for item in optional.get(extra, [])]
    return seen


def imported_modules(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    return found - set(sys.stdlib_module_names) - {"termgate", "__future__"}


def test_every_package_the_product_imports_is_a_runtime_dependency() -> None:
    closure = runtime_closure()
    distributions = packages_distributions()
    missing = {
        module: distributions.get(module, [])
        for module in imported_modules(ROOT / "src" / "termgate")
        if not any(normal(name) in closure for name in distributions.get(module, []))
    }
    assert not missing, f"imported by src/ but not installed by `uv sync --no-dev`: {missing}"


def test_the_closure_leaves_the_dev_tools_out() -> None:
    closure = runtime_closure()
    assert "httpx" in closure
    assert {"pytest", "mypy", "playwright"}.isdisjoint(closure)
