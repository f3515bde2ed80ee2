"""The suites in expectations/ as plain data: which rules a raw table or a mart has, and at which scope.

Read without importing Great Expectations (3 s), because the Dagster definitions need every rule's name
and description at load time; the GE objects are built only when a gate runs (validation.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from orchestration.settings import PROJECT_ROOT
from orchestration.source_system import any_table

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
RAW_LAYER = "raw"

# batch: this run's landed rows (landing.<table>); table: the raw table as it will be after the merge.
Scope = Literal["batch", "table"]
_SCOPES = ("batch", "table")
_RULE_NAME = re.compile(r"[a-z][a-z0-9_]*")


class SuiteFileError(ValueError):
    """A suite file cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    name: str
    type: str  # the GE expectation type in snake case, as in GE's own suite JSON
    kwargs: dict[str, Any]
    scope: Scope
    description: str  # one sentence a person reads in the Dagster UI and Data Docs
    # A suite parameter: when it is false this run, the rule checks nothing and passes, saying so (fx_rates'
    # freshness when no amount is converted with its rows). None: the rule always runs.
    applies_when: str | None = None

    def applies(self, parameters: dict[str, Any]) -> bool:
        return self.applies_when is None or bool(parameters.get(self.applies_when))


@dataclass(frozen=True)
class Suite:
    name: str  # "<layer>.<table>", e.g. raw.opportunities or marts.mart_sales_funnel
    layer: str
    table: str
    key: tuple[str, ...]  # the row key reported for failing rows (and quarantined, in raw)
    rules: tuple[Rule, ...]
    path: Path

    def rules_in(self, *scopes: Scope) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.scope in scopes)

    def rule(self, name: str) -> Rule:
        return next(rule for rule in self.rules if rule.name == name)


def load_suite(path: Path) -> Suite:
    layer, table = path.parent.name, path.stem
    document = yaml.safe_load(path.read_text()) or {}
    if layer == RAW_LAYER:
        key = any_table(table).primary_key
    elif "key" in document:
        key = tuple(document["key"])
    else:
        raise SuiteFileError(f"{path}: a mart suite names its row key, e.g. `key: [month_start, user_id]`")
    rules = tuple(_rule(path, entry) for entry in document.get("expectations") or ())
    duplicates = sorted({rule.name for rule in rules if [r.name for r in rules].count(rule.name) > 1})
    if duplicates:
        raise SuiteFileError(f"{path}: rule names must be unique in a suite; repeated: {duplicates}")
    return Suite(name=f"{layer}.{table}", layer=layer, table=table, key=key, rules=rules, path=path)


@cache
def suites_in(layer: str) -> dict[str, Suite]:
    """Every suite of a layer (raw or marts), by table name."""
    return {path.stem: load_suite(path) for path in sorted((EXPECTATIONS_DIR / layer).glob("*.yml"))}


def _rule(path: Path, entry: dict[str, Any]) -> Rule:
    name = entry.get("rule", "")
    if not _RULE_NAME.fullmatch(name):
        raise SuiteFileError(f"{path}: rule {name!r} needs a name in lower snake case (it names the asset check)")
    scope = entry.get("scope", "batch")
    if scope not in _SCOPES:
        raise SuiteFileError(f"{path}: rule {name}: scope must be one of {_SCOPES}, not {scope!r}")
    if "type" not in entry:
        raise SuiteFileError(
            f"{path}: rule {name}: `type` (a GE expectation type such as "
            "expect_column_values_to_not_be_null) is missing"
        )
    if not entry.get("description"):
        raise SuiteFileError(f"{path}: rule {name}: `description` (one sentence, shown in the Dagster UI) is missing")
    return Rule(
        name=name,
        type=entry["type"],
        kwargs=dict(entry.get("kwargs") or {}),
        scope=scope,
        description=entry["description"],
        applies_when=entry.get("applies_when"),
    )
