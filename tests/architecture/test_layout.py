"""The shape of the code: domain apps depend on each other in one direction, modules stay readable,
and every API schema is one OpenAPI component.

The layers (lowest first). A module may import from its own app and from lower layers only,
counting imports inside functions too: a cycle dodged by a late import is still a cycle. Apps on
the same layer do not import each other. Where a lower layer needs a higher one to take part, it
declares a ``backend.core.hooks.Hook`` and the higher one registers with it. ``backend.runtime``
(server plumbing, the after-commit broadcast) sits just above core: domains use its broadcast,
and ``backend.asgi`` wires the domains' fast paths into its handlers.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest
from ninja import Schema

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("backend", "api", "realtime", "media", "bench")

LAYERS: list[set[str]] = [
    {"backend.core"},
    {"media", "backend.runtime"},
    {"backend.accounts"},
    {"backend.divisions"},
    {"backend.notifications"},
    {"backend.wechat"},
    {"backend.filings", "backend.credentials", "backend.volunteers"},
    {"backend.rivers"},
    {"backend.checkin"},
    {"realtime"},
    {"api"},
    {"backend", "backend.asgi", "backend.urls", "backend.pages", "backend.serve", "backend.settings"},
    {"bench"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

# The size bar: a module a reader can hold in mind. Migrations are generated.
MAX_MODULE_LINES = 700


def _unit(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "backend" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files(*packages: str) -> list[Path]:
    return sorted(
        path
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and ".venv" not in path.parts
    )


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import of a Linli package in the file, at any depth, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found.extend((node.lineno, name) for name in names[:1])
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name.split(".")[0] in PACKAGES]


def _dependencies() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in _source_files(*PACKAGES):
        source = _unit(_module_name(path))
        for line, name in _imports(path):
            target = _unit(name)
            if target != source:
                edges[(source, target)].append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    return edges


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(path)) for path in _source_files(*PACKAGES)}
    assert units - set(RANK) == set(), "place new apps in LAYERS"


def test_dependencies_point_down_the_layers():
    wrong = [
        where
        for (source, target), places in _dependencies().items()
        if RANK[target] >= RANK[source]
        for where in places
    ]
    assert wrong == [], "\n".join(wrong)


def test_no_import_cycle_between_apps():
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in _dependencies():
        graph[source].add(target)
    seen: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        seen[node] = 1
        for nxt in graph[node]:
            if seen.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*trail, node, nxt]))
            if nxt not in seen:
                visit(nxt, [*trail, node])
        seen[node] = 2

    for node in list(graph):
        if node not in seen:
            visit(node, [])


@pytest.mark.parametrize("package", [*PACKAGES, "tests"])
def test_no_module_is_too_long_to_read(package):
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for path in _source_files(package)
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert long == [], f"split these modules (over {MAX_MODULE_LINES} lines):\n" + "\n".join(long)


def _api_schema_classes() -> list[type[Schema]]:
    import api

    classes = {}
    for info in pkgutil.walk_packages(api.__path__, "api."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Schema) and obj.__module__.startswith("api."):
                classes[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(classes.values())


def test_every_api_schema_name_is_one_openapi_component():
    by_name: dict[str, list[str]] = defaultdict(list)
    for cls in _api_schema_classes():
        by_name[cls.__name__].append(f"{cls.__module__}.{cls.__qualname__}")
    clashes = {name: where for name, where in by_name.items() if len(where) > 1}
    assert clashes == {}, "schema names must be unique across the API (prefix them by domain)"
