"""The plugin's floors point one way (docs/architecture.md): every module imports only its own floor and the floors
below it, and no modules import each other in a circle, counting the imports made inside functions too."""
import ast
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: the floors, bottom up: the QGIS-free, model-free core; the models; the run (pipeline, self-check, evaluation); what
#: stands on it (the Processing algorithms, the batch command, training); the plugin object; the package's entry point
FLOORS = {"core": 0, "models": 1, "run": 2, "algorithms": 3, "batch": 3, "training": 3, "plugin": 4, "": 5}


def modules():
    """{dotted name inside the plugin ("core.raster", "" for the entry point): path} of every shipped module."""
    found = {"": os.path.join(REPO, "__init__.py")}
    for package in (p for p in FLOORS if p):
        for folder, _, names in os.walk(os.path.join(REPO, package)):
            for name in names:
                if name.endswith(".py"):
                    parts = os.path.relpath(os.path.join(folder, name), REPO)[:-3].split(os.sep)
                    found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = os.path.join(folder, name)
    return found


def imports(name, path, known, unknown=None):
    """The plugin's modules that module `name` imports (anywhere in it); a relative import of no module of the plugin
    is added to the list `unknown`."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:  # `from . import x`: the module x where there is one
                child = (target + "." if target else "") + alias.name
                found.add(child if child in known else target)
                if child not in known and target not in known and unknown is not None:
                    unknown.append("%s: from %s%s import %s" % (name, "." * node.level, node.module or "", alias.name))
    return {m for m in found if m in known and m != name}


def floor(module):
    return FLOORS[module.split(".")[0]]


def test_every_import_points_down_or_sideways():
    known = modules()
    upward = ["%s -> %s" % (m, t) for m, p in known.items() for t in imports(m, p, known) if floor(t) > floor(m)]
    assert not upward, "\n".join(sorted(upward))


def test_every_relative_import_names_a_module_of_the_plugin():
    known, unknown = modules(), []
    for m, p in known.items():
        imports(m, p, known, unknown)
    assert not unknown, "\n".join(unknown)


def test_no_circle_of_imports():
    known = modules()
    graph = {m: imports(m, p, known) for m, p in known.items()}
    for package in {m.rpartition(".")[0] for m in known if "." in m}:  # a submodule may use its package's names
        for m in graph:
            if m.startswith(package + "."):
                graph[package].discard(m)
    circles, state = [], {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                circles.append(" -> ".join(path[path.index(t):] + [t]))
            elif t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not circles, "\n".join(circles)


def test_the_checks_see_an_upward_import_and_a_circle(tmp_path):
    """The same reading on a made-up module: `core.x` importing `run.pipeline` is upward."""
    path = tmp_path / "x.py"
    path.write_text("def f():\n    from ..run import pipeline\n")
    known = dict(modules(), **{"core.x": str(path)})
    assert imports("core.x", str(path), known) == {"run.pipeline"} and floor("run.pipeline") > floor("core.x")
