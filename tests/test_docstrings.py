"""Every public function and class documents its parameters (numpy style, STYLE.md).

Walks each listed module's ``__all__``: functions, classes (their constructor) and the
public methods a class defines itself. Each must have a one-line summary, and each named
parameter (``*args`` / ``**kwargs`` excepted) must appear under a ``Parameters`` section,
alone or grouped (``epochs, batch_size : int``).
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re


#: The public API: each package's and module's ``__all__`` (private modules are documented by a line or two).
MODULES = [
    "fer_lib",
    "fer_lib.data",
    "fer_lib.model",
    "fer_lib.train",
    "fer_lib.evaluation",
    "fer_lib.live",
    "fer_lib.course",
    "fer_lib.course.concepts",
    "fer_lib.course.plots",
    "fer_lib.labels",
    "fer_lib.errors",
    "fer_lib.language",
    "fer_lib.quiet",
    "fer_lib.cli",
]

# Methods that override a framework hook: their parameters are the framework's.
FRAMEWORK_HOOKS = {"call", "on_epoch_end", "on_epoch_begin", "on_train_begin", "on_train_batch_end", "get_config", "__getitem__", "__len__"}

_SECTION = re.compile(r"^(?P<title>[A-Z][A-Za-z ]+)\n-{3,}$", re.MULTILINE)


def _sections(doc: str) -> dict[str, str]:
    """Section title -> body of a cleaned numpy-style docstring."""
    headers = list(_SECTION.finditer(doc))
    return {
        match["title"]: doc[match.end(): headers[i + 1].start() if i + 1 < len(headers) else len(doc)]
        for i, match in enumerate(headers)
    }


def documented_parameters(doc: str) -> set[str]:
    """Names listed in the Parameters section (``name : type`` lines at the section's indentation).

    Examples
    --------
    >>> sorted(documented_parameters("Sum.\\n\\nParameters\\n----------\\na, b : int\\n    Terms.\\nc\\n"))
    ['a', 'b', 'c']
    """
    body = _sections(inspect.cleandoc(doc)).get("Parameters", "")
    names: set[str] = set()
    for line in body.splitlines():
        if not line.strip() or line.startswith((" ", "\t")):
            continue
        head = line.split(" : ")[0]
        names.update(name.strip().lstrip("*") for name in head.split(","))
    return names


def _required_parameters(obj) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):  # builtins without a signature
        return []
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind not in kinds and p.name not in ("self", "cls")]


def _public_objects():
    seen = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if id(obj) in seen or inspect.ismodule(obj):
                continue
            seen.add(id(obj))
            if inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj, obj
            elif inspect.isclass(obj):
                if not issubclass(obj, enum.Enum):  # an Enum's constructor parameters are Enum's own
                    yield f"{module_name}.{name}", obj, obj
                for attribute, member in vars(obj).items():
                    if attribute.startswith("_") or attribute in FRAMEWORK_HOOKS:
                        continue
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    if inspect.isfunction(member):
                        yield f"{module_name}.{name}.{attribute}", member, member


def _problem(qualified, obj, target) -> str | None:
    doc = inspect.getdoc(obj)
    if not (doc and doc.splitlines()[0].strip()):
        return f"{qualified} has no summary line"
    documented = documented_parameters(obj.__doc__ or "")
    missing = [name for name in _required_parameters(target) if name not in documented]
    return f"{qualified}: parameters not under a 'Parameters' section: {', '.join(missing)}" if missing else None


def test_every_public_name_documents_its_parameters():
    public = list(_public_objects())
    assert len(public) > 60  # the walk found the API
    problems = [problem for item in public if (problem := _problem(*item))]
    assert not problems, "\n".join(problems)


def test_the_main_entry_points_have_an_example():
    from fer_lib import EmotionClassifier, analyze_frame, load_fer2013
    from fer_lib.train import train

    for entry in (load_fer2013, train, analyze_frame, EmotionClassifier):
        assert "Examples\n--------" in inspect.cleandoc(entry.__doc__), entry.__qualname__
