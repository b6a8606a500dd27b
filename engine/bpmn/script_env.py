"""Restricted Python environment for BPMN conditions, script tasks, DMN and `hospital:*Expr` attributes.

Everything a process author writes is compiled by RestrictedPython with a stricter policy than its
default (no imports, no bare ``except``, size-guarded ``+``/``*``/``**``/``<<``) and run with our own
copy of the builtins. A per-thread time budget, checked by ticks the compiler inserts into loops,
functions and lambdas, stops runaway code; it works in worker threads, unlike ``signal.alarm``.
"""

from __future__ import annotations

import ast
import re
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import CodeType
from typing import Any, Literal

from RestrictedPython import (
    PrintCollector,
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
    safe_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.bpmn import _script_guards as _g

__all__ = [
    "RestrictedEnvironment",
    "RestrictedScriptEngine",
    "ScriptTimeout",
    "RestrictedSyntaxError",
    "check_expression_syntax",
    "make_script_engine",
]

# SpiffWorkflow's PythonScriptEngine finds the failing line by looking for this filename in the traceback.
SCRIPT_FILENAME = "<string>"


class ScriptTimeout(BaseException):
    """Raised inside the script when its time budget is spent.

    A BaseException so that ``except Exception`` in a script cannot swallow it; the environment turns it
    into :class:`TimeoutError` before SpiffWorkflow sees it.
    """


class RestrictedSyntaxError(SyntaxError):
    """The source was refused by the restricted compiler (syntax error or forbidden construct)."""


class _HospitalPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus the rules that keep the time budget and memory caps enforceable."""

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import 语句不允许使用 (import is not allowed in process scripts)")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import 语句不允许使用 (import is not allowed in process scripts)")
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        # A bare except would swallow ScriptTimeout and let the script finish with partial results.
        if node.type is None:
            self.error(node, "不允许使用裸 except (bare 'except:' is not allowed, name the exception type)")
        return super().visit_ExceptHandler(node)

    def visit_While(self, node: ast.While) -> Any:
        node = self.node_contents_visit(node)
        node.body.insert(0, _tick_statement(node.body[0]))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick_statement(node.body[0]))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = super().visit_Lambda(node)
        # `lambda: body` becomes `lambda: _tick_() or body`; _tick_ returns None.
        node.body = ast.copy_location(
            ast.BoolOp(op=ast.Or(), values=[_tick_call(node.body), node.body]), node.body
        )
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        if guard is None:
            return node
        call = ast.Call(func=ast.Name(guard, ast.Load()), args=[node.left, node.right], keywords=[])
        ast.copy_location(call.func, node)
        return ast.copy_location(call, node)


def _tick_call(where: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, where))


def _tick_statement(where: ast.AST) -> ast.Expr:
    return ast.fix_missing_locations(ast.copy_location(ast.Expr(_tick_call(where)), where))


_BINOP_GUARDS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_"}


_LINE_RE = re.compile(r"^Line (\d+): (.*)$", re.S)


def _first_error(errors: tuple[str, ...]) -> tuple[int | None, str]:
    match = _LINE_RE.match(errors[0])
    if match is None:
        return None, errors[0]
    return int(match.group(1)), match.group(2)


@lru_cache(maxsize=2048)
def _compile(source: str, mode: Literal["eval", "exec"]) -> CodeType:
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, filename=SCRIPT_FILENAME, policy=_HospitalPolicy)
    if result.errors:
        lineno, message = _first_error(result.errors)
        raise RestrictedSyntaxError(message, (SCRIPT_FILENAME, lineno or 1, 0, None))
    return result.code


def check_expression_syntax(source: str, mode: Literal["eval", "exec"]) -> str | None:
    """Compile ``source`` with the same restricted compiler used at run time.

    Args:
        source: The Python expression (``mode="eval"``) or script (``mode="exec"``).
        mode: ``"eval"`` for conditions and expression attributes, ``"exec"`` for script tasks.

    Returns:
        None if the source is accepted, otherwise a plain-language message naming the line.
    """
    try:
        _compile(source.strip() if mode == "eval" else source, mode)
    except RestrictedSyntaxError as err:
        return f"第 {err.lineno} 行 (line {err.lineno}): {err.msg}"
    except (ValueError, TypeError) as err:  # e.g. NUL bytes in the source
        return f"无法编译 (cannot compile): {err}"
    return None


class _Budget:
    """Wall-clock budget for the scripts running in the current thread.

    The restricted compiler inserts ``_tick_()`` at the top of every ``while`` body, function body and
    lambda, and every loop or comprehension iterates through ``_getiter_``, which ticks too. This is
    used instead of ``sys.settrace``: line events never fire for ``while True: pass`` (a jump to the
    same line), a tracer that raises is uninstalled by CPython so the script's ``except`` block would
    run untimed, and tracing turns off 3.11's specialising interpreter (4x slower measured).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.previous: _Budget | None = None

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScriptTimeout(
                f"脚本运行超过 {self.seconds:g} 秒 (script exceeded {self.seconds:g}s time limit)"
            )

    def __enter__(self) -> _Budget:
        self.previous = getattr(_current, "budget", None)
        _current.budget = self
        return self

    def __exit__(self, *exc: object) -> None:
        _current.budget = self.previous


_current = threading.local()


def _tick() -> None:
    budget: _Budget | None = getattr(_current, "budget", None)
    if budget is not None:
        budget.check()


def _ticking(iterable: Iterable[Any]) -> Iterator[Any]:
    budget: _Budget | None = getattr(_current, "budget", None)
    for item in iterable:
        if budget is not None:
            budget.check()
        yield item


# Our own copy: RestrictedPython's shared safe_builtins is never modified (STYLE.md, "avoid" §4).
# Exceptions the script could use to catch ScriptTimeout are left out.
SAFE_BUILTINS: dict[str, Any] = {
    **{
        k: v
        for k, v in safe_builtins.items()
        if k
        not in {
            "BaseException",
            "SystemExit",
            "KeyboardInterrupt",
            "GeneratorExit",
            "setattr",
            "delattr",
            "__build_class__",
        }
    },
    "len": len,
    "min": min,
    "max": max,
    "sum": sum,
    "sorted": sorted,
    "abs": abs,
    "round": round,
    "any": any,
    "all": all,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "set": set,
    "tuple": tuple,
    "enumerate": enumerate,
    "zip": zip,
    "range": _g.limited_range,
    "isinstance": isinstance,
    "reversed": reversed,
    "map": map,
    "filter": filter,
    "getattr": _g.guarded_getattr,
    "pow": _g.guarded_pow,
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
    "_getattr_": _g.guarded_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": _ticking,
    "_tick_": _tick,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _g.inplacevar,
    "_apply_": _g.apply,
    "_add_": _g.guarded_add,
    "_mul_": _g.guarded_mul,
    "_pow_": _g.guarded_pow,
    "_lshift_": _g.guarded_lshift,
    "_print_": PrintCollector,
}


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Script environment with TaskDataEnvironment's data semantics and a RestrictedPython sandbox.

    Helpers such as ``datetime`` live in the builtins rather than in ``self.globals``, so a form field
    named ``date`` simply shadows the helper instead of tripping the overwrite check.
    """

    def __init__(
        self, environment_globals: dict[str, Any] | None = None, timeout_seconds: float = 1.0
    ) -> None:
        super().__init__(environment_globals)
        self.timeout_seconds = timeout_seconds

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> Any:
        """Evaluate ``expression`` over ``context`` (task data) without modifying it."""
        code = _compile(expression.strip(), "eval")
        scope = {**self.globals, **(external_context or {}), **context, "__builtins__": SAFE_BUILTINS}
        return self._run(code, scope)

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        """Run ``script`` with ``context`` as its globals; new variables stay in the task data."""
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = _compile(script, "exec")
        before = set(context)
        context.update({**self.globals, **external_context, "__builtins__": SAFE_BUILTINS})
        try:
            self._run(code, context)
        finally:
            self._cleanup(context, external_context, before)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        """Service calls go through engine connectors, never through the script environment."""
        raise NotImplementedError("服务任务由连接器执行 (service tasks run through connectors)")

    def check_for_overwrite(self, context: dict[str, Any], external_context: dict[str, Any]) -> None:
        """Refuse task data that would hide a predefined global or external function."""
        clashes = (set(self.globals) | set(external_context)) & set(context)
        if clashes:
            raise ValueError(
                f"任务数据与预定义函数重名 (task data overwrites predefined names): {sorted(clashes)}"
            )

    def _run(self, code: CodeType, scope: dict[str, Any]) -> Any:
        try:
            with _Budget(self.timeout_seconds):
                return eval(code, scope)  # noqa: S307 - code comes from the restricted compiler
        except ScriptTimeout as err:
            # Keep the script frames: SpiffWorkflow reads the failing line from the traceback.
            raise TimeoutError(str(err)).with_traceback(err.__traceback__) from None

    def _cleanup(self, context: dict[str, Any], external_context: dict[str, Any], before: set[str]) -> None:
        for key in list(context):
            # RestrictedPython may add `_print`; underscore keys that were already task data stay.
            if (
                key == "__builtins__"
                or (key.startswith("_") and key not in before)
                or callable(context[key])
                or key in self.globals
                or key in external_context
            ):
                context.pop(key)


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine over a :class:`RestrictedEnvironment`; errors surface as WorkflowTaskException."""

    def __init__(self, environment: RestrictedEnvironment | None = None) -> None:
        super().__init__(environment=environment or RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        """Raise RestrictedSyntaxError if the expression is refused by the restricted compiler."""
        _compile(expression.strip(), "eval")


def make_script_engine(timeout_seconds: float = 1.0) -> RestrictedScriptEngine:
    """Build the script engine the workflow runtime should pass to ``BpmnWorkflow``.

    Args:
        timeout_seconds: Wall-clock budget for one expression or script, checked on every call,
            loop pass and iterated item.

    Returns:
        A new engine; it holds no shared mutable state, so one per workflow or per process both work.
    """
    return RestrictedScriptEngine(RestrictedEnvironment(timeout_seconds=timeout_seconds))
