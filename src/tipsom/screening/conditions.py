"""Rule conditions: a small declarative language compiled once into vectorised evaluators.

A condition is YAML data, never code, so a jurisdiction can adapt rules
without programming and a malformed file is caught when it loads:

* ``{field: F, in: [codes]}``: the value (or, for multi-valued fields and
  repeated tables, any value) is one of the codes;
* ``{field: F, is: true|false}``, ``{field: F, present: true|false}``;
* ``{field: F, lt|le|gt|ge: number}``: numeric comparison (missing is false);
* ``{all: [...]}``, ``{any: [...]}``, ``{not: ...}``, ``{ref: predicate}``.

A value written ``$name`` is a parameter of the rule set, substituted at
compile time. Each node evaluates all rows at once to one boolean array (no
per-case interpretation of the rule tree), and can also say *why* it held for
one row, which is what makes an alert explainable. Leaves ask their field
questions of a :class:`~tipsom.screening.rows.PersonRows`: a pandas batch for
the store, plain values for one case; the tree above them is the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tipsom.core.errors import ConfigError
from tipsom.screening.batch import Mask
from tipsom.screening.fields import BatchSchema, FieldSpec, Kind
from tipsom.screening.rows import PersonRows


class ConditionError(ConfigError):
    """A condition that cannot be compiled; the message names where it is."""


@dataclass
class EvalContext:
    """One evaluation of a set of rows: named predicates are computed once and shared."""

    batch: PersonRows
    memo: dict[str, Mask] = field(default_factory=dict)


class Node(Protocol):
    text: str

    def mask(self, ctx: EvalContext) -> Mask: ...

    def because(self, ctx: EvalContext, row: int) -> list[str]: ...

    def paths(self) -> set[str]: ...


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Leaf:
    """One test on one field."""

    spec: FieldSpec
    op: str
    arg: Any
    text: str

    def paths(self) -> set[str]:
        return {self.spec.path}

    def mask(self, ctx: EvalContext) -> Mask:
        # The same test often appears in several rules and indicators: compute it once per batch.
        key = f"leaf:{self.text}"
        hit = ctx.memo.get(key)
        if hit is None:
            hit = ctx.memo[key] = self._mask(ctx.batch)
        return hit

    def _mask(self, b: PersonRows) -> Mask:
        if self.op == "present":
            present = b.present(self.spec)
            return present if self.arg else ~present
        if self.op == "in":
            return b.member(self.spec, self.arg)
        values = b.numbers(self.spec)
        if self.op == "is":
            return np.asarray(values == (1.0 if self.arg else 0.0), dtype=bool)
        return np.asarray(_COMPARE[self.op](values, float(self.arg)), dtype=bool)

    def because(self, ctx: EvalContext, row: int) -> list[str]:
        spec, b = self.spec, ctx.batch
        if spec.kind is Kind.TABLE:
            n = b.records_at(spec.path, row)
            return [f"{spec.path}: {n} recorded" if self.arg else f"no {spec.path} recorded"]
        values = b.values_at(spec, row)
        if self.op == "in":
            values = [v for v in values if v in self.arg]
        if not values:
            return [f"{spec.path} not recorded"]
        return [f"{spec.path} = {', '.join(_fmt(v) for v in values)}"]


_COMPARE: dict[str, Callable[[Any, float], Any]] = {
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
}


@dataclass
class AllOf:
    parts: list[Node]
    text: str

    def paths(self) -> set[str]:
        return set().union(*(p.paths() for p in self.parts))

    def mask(self, ctx: EvalContext) -> Mask:
        out = self.parts[0].mask(ctx).copy()
        for p in self.parts[1:]:
            if not out.any():
                break
            out &= p.mask(ctx)
        return out

    def because(self, ctx: EvalContext, row: int) -> list[str]:
        return [line for p in self.parts for line in p.because(ctx, row)]


@dataclass
class AnyOf:
    parts: list[Node]
    text: str

    def paths(self) -> set[str]:
        return set().union(*(p.paths() for p in self.parts))

    def mask(self, ctx: EvalContext) -> Mask:
        out = self.parts[0].mask(ctx).copy()
        for p in self.parts[1:]:
            out |= p.mask(ctx)
        return out

    def because(self, ctx: EvalContext, row: int) -> list[str]:
        return [line for p in self.parts if p.mask(ctx)[row] for line in p.because(ctx, row)]


@dataclass
class Not:
    inner: Node
    text: str

    def paths(self) -> set[str]:
        return self.inner.paths()

    def mask(self, ctx: EvalContext) -> Mask:
        return ~self.inner.mask(ctx)

    def because(self, ctx: EvalContext, row: int) -> list[str]:
        return [self.text]


@dataclass
class Ref:
    """A named predicate of the rule set (act, means, child...), computed once per batch."""

    name: str
    inner: Node
    text: str

    def paths(self) -> set[str]:
        return self.inner.paths()

    def mask(self, ctx: EvalContext) -> Mask:
        hit = ctx.memo.get(self.name)
        if hit is None:
            hit = ctx.memo[self.name] = self.inner.mask(ctx)
        return hit

    def because(self, ctx: EvalContext, row: int) -> list[str]:
        return [f"{self.text}: {'; '.join(self.inner.because(ctx, row))}"]


_OPS = ("in", "is", "present", "lt", "le", "gt", "ge")


class Compiler:
    """Compiles conditions against the batch schema, a rule set's parameters and predicates."""

    def __init__(self, schema: BatchSchema, params: Mapping[str, Any]) -> None:
        self.schema, self.params = schema, params
        self.predicates: dict[str, Ref] = {}

    def _param(self, value: Any, where: str) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            name = value[1:]
            if name not in self.params:
                raise ConditionError(f"{where}: unknown parameter {value!r}")
            return self.params[name]
        return value

    def compile(self, raw: Any, where: str) -> Node:
        if not isinstance(raw, Mapping) or not raw:
            raise ConditionError(f"{where}: a condition must be a non-empty mapping, got {raw!r}")
        if len(raw) == 1:
            (key, value), = raw.items()
            if key in ("all", "any"):
                if not isinstance(value, list) or not value:
                    raise ConditionError(f"{where}.{key}: needs a non-empty list")
                parts = [self.compile(v, f"{where}.{key}[{i}]") for i, v in enumerate(value)]
                joiner = " and " if key == "all" else " or "
                text = "(" + joiner.join(p.text for p in parts) + ")"
                return AllOf(parts, text) if key == "all" else AnyOf(parts, text)
            if key == "not":
                inner = self.compile(value, f"{where}.not")
                return Not(inner, f"not {inner.text}")
            if key == "ref":
                if value not in self.predicates:
                    raise ConditionError(f"{where}: unknown predicate {value!r} (define it before use)")
                return self.predicates[value]
        return self._leaf(raw, where)

    def _leaf(self, raw: Mapping[str, Any], where: str) -> Node:
        path = raw.get("field")
        ops = [k for k in raw if k != "field"]
        if not isinstance(path, str) or len(ops) != 1 or ops[0] not in _OPS:
            raise ConditionError(
                f"{where}: expected all/any/not/ref or {{field: NAME, OP: VALUE}} with OP one of "
                f"{', '.join(_OPS)}; got {dict(raw)!r}"
            )
        if path in self.schema.personal:
            raise ConditionError(f"{where}: {path!r} is a personal field (stored encrypted); "
                                 "screening never reads personal data")
        spec = self.schema.spec(path)
        if spec is None:
            raise ConditionError(f"{where}: {path!r} is not a field of the standard")
        op = ops[0]
        arg = self._param(raw[op], where)
        allowed = {
            Kind.CODE: {"in", "present"}, Kind.CODES: {"in", "present"}, Kind.BOOL: {"is", "present"},
            Kind.NUMBER: {"lt", "le", "gt", "ge", "present"}, Kind.DATE: {"present"}, Kind.TABLE: {"present"},
        }[spec.kind]
        # Repeated records are read as "any record": only presence and code membership apply to them.
        if op not in allowed or (op in {"is", "lt", "le", "gt", "ge"} and spec.table is not None):
            raise ConditionError(f"{where}: {op!r} does not apply to {path!r} ({spec.kind})")
        if op in ("is", "present") and not isinstance(arg, bool):
            raise ConditionError(f"{where}: {op!r} takes true or false, got {arg!r}")
        if op in ("lt", "le", "gt", "ge") and (isinstance(arg, bool) or not isinstance(arg, int | float)):
            raise ConditionError(f"{where}: {op!r} takes a number, got {arg!r}")
        if op == "in":
            if not isinstance(arg, list) or not arg:
                raise ConditionError(f"{where}: 'in' takes a non-empty list, got {arg!r}")
            arg = [str(v) for v in arg]
            if spec.codes is not None:
                bad = [v for v in arg if v not in spec.codes]
                if bad:
                    raise ConditionError(f"{where}: {bad} not in the code list of {path!r}")
        text = {"in": f"{path} in [{', '.join(arg) if isinstance(arg, list) else arg}]",
                "is": f"{path} is {str(arg).lower()}", "present": f"{path} {'recorded' if arg else 'not recorded'}",
                "lt": f"{path} < {arg}", "le": f"{path} <= {arg}", "gt": f"{path} > {arg}",
                "ge": f"{path} >= {arg}"}[op]
        return Leaf(spec, op, arg, text)

    def define(self, name: str, label: str, raw: Any) -> Ref:
        """Compile a named predicate; later conditions may ``ref`` it."""
        if name in self.predicates:
            raise ConditionError(f"predicate {name!r}: defined twice")
        ref = Ref(name, self.compile(raw, f"predicate {name!r}"), label)
        self.predicates[name] = ref
        return ref
