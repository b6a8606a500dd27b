"""Patient identity fields inside process data: marked in form schemas, sealed at rest, masked on read.

A form property marked ``"x-sensitive": "id_number" | "phone" | "name"`` (docs/BPMN_EXTENSIONS.md) is
*sealed* wherever process data is written to the database (instance state, completed task rows): the
string becomes ``pii:`` + a :class:`~engine.security.fields.FieldCipher` ciphertext whose associated data
is ``pii:<path>`` (``id_number``, ``patient.phone``, ``companions[].name``), so a value cannot be moved to
another field. In memory, scripts, gateways and connectors always see plaintext. Readers without
``pii:read`` get :func:`mask` output.

Pure functions over JSON-like data; no database, no SpiffWorkflow.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.security.fields import FieldCipher, mask_id_number, mask_name, mask_phone

KEYWORD = "x-sensitive"
PREFIX = "pii:"
_SEALED_PREFIX = PREFIX + "v"
ITEMS = "[]"
MASKERS: dict[str, Callable[[str | None], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
}
KINDS = frozenset(MASKERS)

# kind at a leaf, a nested tree for an object, {"[]": tree} for an array's items.
Tree = dict[str, Any]


@dataclass(frozen=True)
class SensitiveFields:
    """The marked fields of one definition (the union over its forms).

    Attributes:
        tree: ``{key: kind | subtree}``; arrays nest their item tree under ``"[]"``.
    """

    tree: Mapping[str, Any]

    def __bool__(self) -> bool:
        return bool(self.tree)

    def top_level(self) -> frozenset[str]:
        return frozenset(self.tree)


NONE = SensitiveFields({})


def _walk_schema(schema: Any, tree: Tree) -> None:
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        kind = prop.get(KEYWORD)
        if isinstance(kind, str) and kind in KINDS:
            tree[name] = kind
            continue
        sub: Tree = tree.get(name) if isinstance(tree.get(name), dict) else {}
        _walk_schema(prop, sub)
        items = prop.get("items")
        if isinstance(items, dict):
            item_tree: Tree = sub.get(ITEMS) if isinstance(sub.get(ITEMS), dict) else {}
            if isinstance(items.get(KEYWORD), str) and items[KEYWORD] in KINDS:
                sub[ITEMS] = items[KEYWORD]
            else:
                _walk_schema(items, item_tree)
                if item_tree:
                    sub[ITEMS] = item_tree
        if sub:
            tree[name] = sub


def sensitive_fields(schemas: Iterable[Any]) -> SensitiveFields:
    """Collect the ``x-sensitive`` marks of JSON Schemas (object properties and array items, nested)."""
    tree: Tree = {}
    for schema in schemas:
        _walk_schema(schema, tree)
    return SensitiveFields(tree) if tree else NONE


def schema_problem(schema: Any) -> str | None:
    """A reason an ``x-sensitive`` mark is wrong (unknown kind, not on a string), or None."""
    problems: list[str] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if KEYWORD in node:
                kind = node[KEYWORD]
                if kind not in KINDS:
                    problems.append(f"{path or '/'}: {KEYWORD} 须为 {', '.join(sorted(KINDS))}")
                elif node.get("type", "string") != "string":
                    problems.append(f"{path or '/'}: {KEYWORD} 只能标记字符串字段 (string fields only)")
            for key, value in node.items():
                visit(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                visit(value, f"{path}/{i}")

    visit(schema, "")
    return f"敏感字段标记无效 (invalid {KEYWORD}): {problems[0]}" if problems else None


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_SEALED_PREFIX)


def _context(path: str) -> str:
    return PREFIX + path


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _map(data: Any, tree: Any, path: str, leaf: Callable[[str, str, str], Any]) -> Any:
    """Copy `data` with `leaf(value, kind, path)` applied to every marked string; unchanged parts shared."""
    if isinstance(tree, str):
        return leaf(data, tree, path) if isinstance(data, str) and data else data
    if isinstance(data, list) and ITEMS in tree:
        items = [_map(item, tree[ITEMS], path + ITEMS, leaf) for item in data]
        return items if any(a is not b for a, b in zip(items, data, strict=True)) else data
    if not isinstance(data, dict):
        return data
    out = None
    for key in [k for k in tree if k in data and k != ITEMS]:
        value = data[key]
        new = _map(value, tree[key], _join(path, key), leaf)
        if new is not value:
            if out is None:
                out = dict(data)
            out[key] = new
    return data if out is None else out


class FormFieldCodec:
    """Seal and unseal marked fields with a :class:`FieldCipher` (key versions rotate as for staff fields)."""

    def __init__(self, cipher: FieldCipher | Callable[[], FieldCipher]) -> None:
        self._cipher = cipher if isinstance(cipher, FieldCipher) else None
        self._factory = None if isinstance(cipher, FieldCipher) else cipher

    @property
    def cipher(self) -> FieldCipher:
        if self._cipher is None:
            assert self._factory is not None
            self._cipher = self._factory()
        return self._cipher

    def seal(self, data: Any, fields: SensitiveFields, memo: dict[tuple[str, str], str] | None = None) -> Any:
        """A copy of `data` with the marked strings encrypted; sealed values of a current key stay as they are.

        `memo` (path, plaintext) → ciphertext lets one document reuse a ciphertext for the many task copies
        of the same value (only equality within that document shows, which its structure shows anyway).
        """
        if not fields:
            return data
        cipher = self.cipher
        memo = {} if memo is None else memo

        def leaf(value: str, _kind: str, path: str) -> str:
            if value.startswith(_SEALED_PREFIX):
                if not cipher.needs_reencrypt(value[len(PREFIX):]):
                    return value
                value = self.open_value(value, path)
            sealed = memo.get((path, value))
            if sealed is None:
                sealed = memo[(path, value)] = PREFIX + cipher.encrypt(value, context=_context(path))
            return sealed

        return _map(data, fields.tree, "", leaf)

    def open_value(self, value: str, path: str) -> str:
        """Decrypt one sealed value found at `path` (raises FieldCryptoError when moved or tampered)."""
        return self.cipher.decrypt(value[len(PREFIX):], context=_context(path))

    def unseal(self, data: Any, path: str = "", memo: dict[tuple[str, str], str] | None = None) -> Any:
        """A copy of `data` with every sealed string decrypted, wherever it is (no marks needed, so a state
        sealed under marks that later changed still opens). Plaintext (older rows) passes through."""
        memo = {} if memo is None else memo

        def leaf(value: str, at: str) -> str:
            plain = memo.get((at, value))
            if plain is None:
                plain = memo[(at, value)] = self.open_value(value, at)
            return plain

        return _each_sealed(data, path, leaf)

    def reseal(self, data: Any, path: str = "", memo: dict[tuple[str, str], str] | None = None) -> Any:
        """A copy of `data` with every value sealed under an old key version sealed again under the current
        one, with the same field path as associated data (no marks needed, like :meth:`unseal`).

        Values of the current key stay as they are, so a second pass returns `data` itself. `memo`
        (path, old ciphertext) → new ciphertext keeps equal values equal within one document; its size
        after the call is the number of distinct values re-sealed.
        """
        cipher = self.cipher
        memo = {} if memo is None else memo

        def leaf(value: str, at: str) -> str:
            if not cipher.needs_reencrypt(value[len(PREFIX):]):
                return value
            new = memo.get((at, value))
            if new is None:
                new = memo[(at, value)] = PREFIX + cipher.reencrypt(value[len(PREFIX):], context=_context(at))
            return new

        return _each_sealed(data, path, leaf)


def _each_sealed(data: Any, path: str, leaf: Callable[[str, str], str]) -> Any:
    """Copy `data` with `leaf(value, path)` applied to every sealed string; unchanged parts shared."""
    if isinstance(data, str):
        return leaf(data, path) if data.startswith(_SEALED_PREFIX) else data
    if isinstance(data, dict):
        out = None
        for key, value in data.items():
            new = _each_sealed(value, _join(path, key), leaf)
            if new is not value:
                if out is None:
                    out = dict(data)
                out[key] = new
        return data if out is None else out
    if isinstance(data, list):
        items = [_each_sealed(item, path + ITEMS, leaf) for item in data]
        return items if any(a is not b for a, b in zip(items, data, strict=True)) else data
    return data


def mask(data: Any, fields: SensitiveFields, *, keep: frozenset[str] = frozenset()) -> Any:
    """A copy of `data` with marked strings masked (``110101********1234``, ``138****5678``, ``张*``).

    Args:
        keep: Top-level fields left as they are (the fields the viewer must edit at this step).
    """
    if not fields:
        return data

    def leaf(value: str, kind: str, path: str) -> str:
        if path.split(".", 1)[0].split(ITEMS, 1)[0] in keep:
            return value
        return "******" if value.startswith(_SEALED_PREFIX) else MASKERS[kind](value)

    return _map(data, fields.tree, "", leaf)


def masked_fields(data: Any, fields: SensitiveFields, *, keep: frozenset[str] = frozenset()) -> list[str]:
    """Top-level names of marked fields that hold a value in `data` (outside `keep`): what a reveal shows."""
    if not fields or not isinstance(data, dict):
        return []
    return sorted(k for k in fields.tree if k not in keep and data.get(k) not in (None, "", [], {}))


def drop_masked_echo(submitted: dict[str, Any], current: Mapping[str, Any], fields: SensitiveFields, *,
                     hidden: Iterable[str] = ()) -> dict[str, Any]:
    """Remove top-level marked fields a client sent back exactly as it was shown masked (an unchanged value).

    Fields `hidden` at the step are left for the hidden-field refusal: a silent drop would tell a prober
    that a guess matched the masked form.
    """
    if not fields:
        return submitted
    skip = set(hidden)
    shown = mask({k: current.get(k) for k in fields.tree if k in submitted and k not in skip}, fields)
    echoed = [k for k, v in shown.items() if v is not None and submitted.get(k) == v and v != current.get(k)]
    return {k: v for k, v in submitted.items() if k not in echoed} if echoed else submitted
