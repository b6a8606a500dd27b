"""Size-limited operators and guarded accessors used by the restricted script builtins (see script_env)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from RestrictedPython.Guards import safer_getattr, safer_getattr_raise

MAX_RANGE = 100_000
MAX_SEQUENCE_LENGTH = 1_000_000
MAX_INT_BITS = 65_536


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _too_long() -> MemoryError:
    return MemoryError(f"结果过大 (sequence longer than {MAX_SEQUENCE_LENGTH} items)")


def _too_big() -> OverflowError:
    return OverflowError(f"结果过大 (integer larger than {MAX_INT_BITS} bits)")


def guarded_add(left: Any, right: Any) -> Any:
    # Doubling `s = s + s` in a loop reaches gigabytes in a few dozen passes.
    if _size(left) + _size(right) > MAX_SEQUENCE_LENGTH:
        raise _too_long()
    return left + right


def guarded_mul(left: Any, right: Any) -> Any:
    if type(left) is int and type(right) is int:
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _too_big()
        return left * right
    for seq, count in ((left, right), (right, left)):
        if isinstance(count, int) and _size(seq) * count > MAX_SEQUENCE_LENGTH:
            raise _too_long()
    return left * right


def guarded_pow(base: Any, exp: Any, *mod: Any) -> Any:
    if isinstance(base, int) and isinstance(exp, int) and not mod and exp > 0 and abs(base) > 1:
        if exp * max(abs(base).bit_length(), 1) > MAX_INT_BITS:
            raise _too_big()
    return pow(base, exp, *mod)


def guarded_lshift(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and right > MAX_INT_BITS:
        raise _too_big()
    return left << right


def limited_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ValueError(f"range() 最多 {MAX_RANGE} 个元素 (range too large)")
    return result


_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": guarded_add,
    "-=": operator.isub,
    "*=": guarded_mul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": guarded_pow,
    "<<=": guarded_lshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
}


def inplacevar(op: str, left: Any, right: Any) -> Any:
    if op not in _INPLACE_OPS:
        raise SyntaxError(f"unsupported in-place operator {op}")
    return _INPLACE_OPS[op](left, right)


def apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    return safer_getattr(obj, name, *default) if default else safer_getattr_raise(obj, name)
