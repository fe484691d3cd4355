"""Read the code base for the codes it shows people: ledger actions and refusal rules.

The vocabulary tests (``test_vocabulary.py``) compare what this finds with the label tables, so
a new ``append_entry(action=...)`` or ``rule="..."`` without a Chinese label fails the suite.

Ledger actions are often built by a wrapper (``f"parties.{action}"`` inside ``record_change``,
called as ``record_change(session, actor, "user_created", ...)``): a formatted ``action`` whose
placeholder is a parameter of the enclosing function is resolved by finding every call of that
function and reading the literal passed for the parameter, through as many wrappers as there are.
Whatever cannot be resolved is reported, so a new pattern is noticed rather than skipped.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("trading", "bidding", "intermediary_market", "procurement")


def source_files() -> list[Path]:
    return sorted(
        path
        for name in SOURCE_PACKAGES
        if (ROOT / name).exists()
        for path in (ROOT / name).rglob("*.py")
        if "migrations" not in path.parts
    )


@dataclass
class _Function:
    path: Path
    node: ast.FunctionDef | ast.AsyncFunctionDef
    is_method: bool

    @property
    def params(self) -> list[str]:
        names = [a.arg for a in (*self.node.args.posonlyargs, *self.node.args.args)]
        return names[1:] if self.is_method and names and names[0] in {"self", "cls"} else names

    @property
    def keyword_only(self) -> list[str]:
        return [a.arg for a in self.node.args.kwonlyargs]


@dataclass
class _Module:
    path: Path
    tree: ast.Module
    constants: dict[str, str] = field(default_factory=dict)
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)


@dataclass
class Scan:
    modules: list[_Module]
    functions: dict[str, list[_Function]]
    calls: dict[str, list[tuple[_Module, ast.Call]]]
    by_name: dict[str, _Module] = field(default_factory=dict)

    def enclosing_function(self, module: _Module, node: ast.AST) -> _Function | None:
        current: ast.AST | None = node
        while current is not None:
            current = module.parents.get(current)
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for function in self.functions.get(current.name, []):
                    if function.node is current:
                        return function
        return None


def scan() -> Scan:  # noqa: C901 - one pass collecting four kinds of facts
    modules: list[_Module] = []
    functions: dict[str, list[_Function]] = defaultdict(list)
    calls: dict[str, list[tuple[_Module, ast.Call]]] = defaultdict(list)
    for path in source_files():
        tree = ast.parse(path.read_text("utf-8"))
        module = _Module(path, tree)
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                module.parents[child] = node
        for statement in tree.body:
            target = None
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target, value = statement.targets[0], statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                target, value = statement.target, statement.value
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                module.constants[target.id] = value.value
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                parent = module.parents.get(node)
                functions[node.name].append(_Function(path, node, isinstance(parent, ast.ClassDef)))
            elif isinstance(node, ast.Call):
                name = _callee(node)
                if name:
                    calls[name].append((module, node))
        modules.append(module)
    return Scan(modules, functions, calls, {_module_name(m.path): m for m in modules})


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _argument(call: ast.Call, function: _Function, param: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    params = function.params
    if param in params:
        index = params.index(param)
        # A method called as a plain name (``Class.method(self, ...)``) is not a pattern here.
        if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
            return call.args[index]
    return None


def _values(  # noqa: C901, PLR0911 - one branch and return per kind of expression
    scan: Scan, module: _Module, expr: ast.expr, depth: int = 0
) -> tuple[set[str], list[str]]:
    """The strings ``expr`` can be, and a description of each part that could not be resolved."""
    where = f"{module.path.relative_to(ROOT)}:{expr.lineno}"
    if depth > 6:
        return set(), [f"{where}: too many wrappers"]
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}, []
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Dict):  # {a: "x", b: "y"}[key]
        options: set[str] = set()
        missing: list[str] = []
        for entry in expr.value.values:
            values, bad = _values(scan, module, entry, depth)
            options |= values
            missing += bad
        return options, missing
    if isinstance(expr, ast.IfExp):
        a, bad_a = _values(scan, module, expr.body, depth)
        b, bad_b = _values(scan, module, expr.orelse, depth)
        return a | b, bad_a + bad_b
    if isinstance(expr, ast.Name):
        if expr.id in module.constants:
            return {module.constants[expr.id]}, []
        return _parameter_values(scan, module, expr, depth)
    if isinstance(expr, ast.JoinedStr):
        results = {""}
        unresolved: list[str] = []
        for part in expr.values:
            if isinstance(part, ast.Constant):
                results = {r + str(part.value) for r in results}
            elif isinstance(part, ast.FormattedValue):
                options, bad = _values(scan, module, part.value, depth)
                unresolved += bad
                results = {r + option for r in results for option in options}
        return results, unresolved
    return set(), [f"{where}: {ast.unparse(expr)}"]


def _enclosing_functions(scan: Scan, module: _Module, node: ast.AST) -> Iterator[_Function]:
    current: ast.AST | None = node
    while (function := scan.enclosing_function(module, current)) is not None:  # type: ignore[arg-type]
        yield function
        current = function.node


def _local_assignments(function: _Function, name: str) -> list[ast.expr]:
    """What ``name`` is assigned in ``function``'s own body (not in functions nested in it)."""
    found: list[ast.expr] = []
    stack: list[ast.AST] = list(function.node.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = getattr(node, "value", None)
        if value is not None and any(isinstance(t, ast.Name) and t.id == name for t in targets):
            found.append(value)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _callers(scan: Scan, function: _Function) -> list[tuple[_Module, ast.Call]]:
    """Calls that can reach ``function`` and fit its signature: a private method through an attribute
    in its own package, a public one anywhere; a function by its name in its own module or in
    modules importing it.
    """
    name = function.node.name
    home = _module_name(function.path)
    chosen = []
    for module, call in scan.calls.get(name, []):
        same_file = module.path == function.path
        if function.is_method:
            # A private method is called in its own package (subclasses, mixins); a public one anywhere.
            private = name.startswith("_")
            same_package = module.path.relative_to(ROOT).parts[0] == function.path.relative_to(ROOT).parts[0]
            if isinstance(call.func, ast.Attribute) and (same_package if private else True) and _binds(call, function):
                chosen.append((module, call))
        elif (same_file or _imports(scan, module, home, name)) and _binds(call, function):
            chosen.append((module, call))
    return chosen


def _binds(call: ast.Call, function: _Function) -> bool:
    """Whether ``call``'s arguments fit ``function``'s signature (tells apart same-named functions)."""
    arguments = function.node.args
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return True
    params = function.params
    if len(call.args) > len(params) and arguments.vararg is None:
        return False
    named = {k.arg for k in call.keywords}
    if arguments.kwarg is None and not named <= {*params, *function.keyword_only}:
        return False
    positional_defaults = len(arguments.defaults)
    required = params[len(call.args) : len(params) - positional_defaults]
    required_kw = [a.arg for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is None]
    return all(p in named for p in (*required, *required_kw))


def _imports(scan: Scan, module: _Module, home: str, name: str, hops: int = 3) -> bool:
    """Whether ``module`` imports ``name`` from ``home``, directly or through modules re-exporting it."""
    for node in module.tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name == name for a in node.names):
            if node.module == home:
                return True
            via = scan.by_name.get(node.module)
            if via is not None and hops and _imports(scan, via, home, name, hops - 1):
                return True
    return False


def _parameter_values(scan: Scan, module: _Module, name: ast.Name, depth: int) -> tuple[set[str], list[str]]:
    where = f"{module.path.relative_to(ROOT)}:{name.lineno}"
    found: set[str] = set()
    unresolved: list[str] = []
    for function in _enclosing_functions(scan, module, name):
        assigned = _local_assignments(function, name.id)
        for value in assigned:
            values, bad = _values(scan, module, value, depth + 1)
            found |= values
            unresolved += bad
        if name.id in (*function.params, *function.keyword_only):
            for caller_module, call in _callers(scan, function):
                argument = _argument(call, function, name.id)
                if argument is None:
                    continue
                values, bad = _values(scan, caller_module, argument, depth + 1)
                found |= values
                unresolved += bad
            if not found and not unresolved:
                unresolved.append(f"{where}: {function.node.name}({name.id}) has no caller passing it")
            return found, unresolved
        if assigned:
            return found, unresolved
    return set(), [f"{where}: {name.id}"]


def ledger_actions() -> tuple[set[str], list[str]]:
    """Every action code passed to ``append_entry`` anywhere, and what could not be resolved."""
    return append_entry_values("action")


def append_entry_values(argument: str) -> tuple[set[str], list[str]]:
    """Every value passed as ``argument`` (``action``, ``subject_type``) to ``append_entry``."""
    code = scan()
    found: set[str] = set()
    unresolved: list[str] = []
    for module, call in code.calls.get("append_entry", []):
        for keyword in call.keywords:
            if keyword.arg == argument:
                values, bad = _values(code, module, keyword.value)
                found |= values
                unresolved += bad
    return found, unresolved


def rule_codes() -> dict[str, set[str]]:
    """Every literal rule code a refusal names (``rule="..."`` and ``FieldParser.add(name, rule, msg)``),
    with the files that use it.
    """
    found: dict[str, set[str]] = defaultdict(set)
    for path in source_files():
        tree = ast.parse(path.read_text("utf-8"))
        for statement in tree.body:  # RULE_CONTROL = "no-control-characters"
            if (
                isinstance(statement, (ast.Assign, ast.AnnAssign))
                and isinstance(target := getattr(statement, "target", None) or statement.targets[0], ast.Name)  # type: ignore[union-attr]
                and target.id.startswith("RULE_")
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                found[statement.value.value].add(str(path.relative_to(ROOT)))
        for node in _calls(tree):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "rule" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[value.value].add(str(path.relative_to(ROOT)))
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "add"
                and len(node.args) == 3  # FieldParser.add(name, rule, message)
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                found[node.args[1].value].add(str(path.relative_to(ROOT)))
    return found


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node
