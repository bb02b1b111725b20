"""The library's shape: a small public API, no import circles, nothing importing upward, no side effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fer_lib"

#: Layers, lowest first: a module may import its own layer's modules and lower layers only.
LAYERS = [
    {"fer_lib.labels", "fer_lib.errors", "fer_lib.language", "fer_lib.quiet", "fer_lib._fileio", "fer_lib._lazy"},
    # Finding faces: frame checks and crops, and the detectors. They import only the bottom layer; data uses them
    # to crop the photos of a folder data set exactly as the live loop crops a camera frame.
    {"fer_lib.live._frames", "fer_lib.live._detectors"},
    {"fer_lib.data"},
    {"fer_lib.model", "fer_lib.live"},  # live uses the model's one prediction path (LiteRT)
    {"fer_lib.evaluation"},
    {"fer_lib.train"},
    {"fer_lib.course"},
    {"fer_lib", "fer_lib.cli", "fer_lib.__main__"},
]


def _unit(module: str) -> str:
    """The layer unit of a module: its package under fer_lib, or the module itself."""
    parts = module.split(".")
    if module in LAYERS[1]:
        return module
    if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir():
        return ".".join(parts[:2])
    return module


def _layer(unit: str) -> int:
    return next(index for index, members in enumerate(LAYERS) if unit in members)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the fer_lib modules it imports (at any depth of its code, lazily or not)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fer_lib"):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("fer_lib"))
        graph[name] = found
    return graph


def test_no_module_imports_a_higher_layer_or_research():
    problems = []
    for module, imported in _imports().items():
        for target in imported:
            if target == "fer_lib" and module != "fer_lib.cli":
                problems.append(f"{module} imports the top-level package")
            elif _layer(_unit(target)) > _layer(_unit(module)):
                problems.append(f"{module} imports {target}, a higher layer")
    assert not problems, "\n".join(problems)
    sources = "".join(path.read_text() for path in PACKAGE.rglob("*.py"))
    assert "import research" not in sources and "from research" not in sources


def test_no_import_circle_between_packages():
    graph: dict[str, set[str]] = {}
    for module, imported in _imports().items():
        graph.setdefault(_unit(module), set()).update(_unit(t) for t in imported if _unit(t) != _unit(module))
    graph.pop("fer_lib", None)  # the top-level package re-exports; nothing below imports it (checked above)

    def visit(unit, path):
        for target in graph.get(unit, ()):
            assert target not in path, f"import circle: {' -> '.join([*path, target])}"
            visit(target, [*path, target])

    for unit in graph:
        visit(unit, [unit])


def test_the_top_level_stays_small():
    import fer_lib

    assert len(fer_lib.__all__) <= 30
    bottom = {"labels", "errors", "language", "quiet", "_fileio", "_lazy"}
    own = {path.stem for path in PACKAGE.glob("*.py")} | {path.name for path in PACKAGE.iterdir()
                                                          if (path / "__init__.py").is_file()}
    rest = own - bottom - {"__init__", "__main__", "cli"}
    assert len(rest) <= 8, sorted(rest)


@pytest.mark.parametrize("package", ["fer_lib.data", "fer_lib.model", "fer_lib.train", "fer_lib.live",
                                     "fer_lib.course"])
def test_every_exported_name_resolves(package):
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout


def test_importing_fer_lib_and_the_config_loads_no_keras_and_changes_nothing():
    out = _run(
        "import os, sys\n"
        "before = dict(os.environ), os.fstat(2)\n"
        "import fer_lib\n"
        "from fer_lib.train import PROFILES, TrainConfig\n"
        "from fer_lib import data, model, live, course\n"
        "TrainConfig('fer_net', epochs=3)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')))\n"
        # OpenCV's own loader prepends its library folder to LD_LIBRARY_PATH: not ours to change
        "after = {k: v for k, v in os.environ.items() if k != 'LD_LIBRARY_PATH'}\n"
        "print(after == {k: v for k, v in before[0].items() if k != 'LD_LIBRARY_PATH'} and os.fstat(2) == before[1])\n"
    )
    assert out.split("\n")[:2] == ["[]", "True"]


def test_finding_faces_can_be_imported_below_data():
    """data imports live._frames and live._detectors, which runs live/__init__ first: it must stay lazy."""
    tree = ast.parse((PACKAGE / "live" / "__init__.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"fer_lib._lazy", "__future__"}, imported
    assert _run("import fer_lib.data; import fer_lib.live._capture; print('ok')").strip() == "ok"
