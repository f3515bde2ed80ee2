"""expectations/gates.yml: every rule's severity and the thresholds the suites use, as edited by a user.

Names that match no suite or rule are rejected: a typo in a severity must not silently leave a rule at
the default. The freshness threshold is CRM_FRESHNESS_HOURS, the one the dbt sources and the published marts'
freshness policy use too; gates.yml may only override it for a suite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from enum import Enum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from orchestration.names import MARTS_SCHEMA
from orchestration.quality.suites import RAW_LAYER, Suite, suites_in


class Severity(str, Enum):
    ERROR = "ERROR"  # stops the run
    WARN = "WARN"  # reported; rows that break it are quarantined, not dropped


class GateConfigError(ValueError):
    """gates.yml has a value the gates cannot use; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Thresholds:
    amount_ceiling: float
    volume_drop_share: float
    freshness_hours: float


@dataclass(frozen=True)
class GateConfig:
    path: Path
    default_severity: Severity
    severity: dict[str, Severity]  # rule name or fnmatch pattern → severity, first match wins
    thresholds: Thresholds
    suite_severity: dict[str, dict[str, Severity]]
    suite_thresholds: dict[str, Thresholds]

    def severity_of(self, suite: str, rule: str) -> Severity:
        for patterns in (self.suite_severity.get(suite, {}), self.severity):
            for pattern, severity in patterns.items():
                if fnmatchcase(rule, pattern):
                    return severity
        return self.default_severity

    def thresholds_for(self, suite: str) -> Thresholds:
        return self.suite_thresholds.get(suite, self.thresholds)


def read_gate_config(path: Path, *, freshness_hours: float) -> GateConfig:
    """The gates file against every suite of both gates (it may name rules of either)."""
    return load_gate_config(
        path, [*suites_in(RAW_LAYER).values(), *suites_in(MARTS_SCHEMA).values()], freshness_hours=freshness_hours
    )


def load_gate_config(path: Path, suites: Iterable[Suite], *, freshness_hours: float) -> GateConfig:
    """freshness_hours: CRM_FRESHNESS_HOURS, the freshness threshold of every suite gates.yml does not override."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise GateConfigError(f"{path}: not YAML ({error}); compare it with expectations/gates.yml") from None
    if not isinstance(document, dict):
        raise GateConfigError(f"{path}: holds {type(document).__name__}, not the mapping of expectations/gates.yml")
    by_name = {suite.name: suite for suite in suites}
    all_rules = {rule.name for suite in by_name.values() for rule in suite.rules}
    entries = document.get("thresholds") or {}
    if "freshness_hours" in entries:
        raise GateConfigError(
            f"{path}: thresholds.freshness_hours: freshness is set by CRM_FRESHNESS_HOURS (one "
            "threshold for the gates, dbt's sources and the published marts); remove it here"
        )
    thresholds = _thresholds(path, "thresholds", {**entries, "freshness_hours": freshness_hours}, base=None)
    suite_severity: dict[str, dict[str, Severity]] = {}
    suite_thresholds: dict[str, Thresholds] = {}
    for suite_name, overrides in (document.get("suites") or {}).items():
        if suite_name not in by_name:
            raise GateConfigError(f"{path}: suites.{suite_name} names no suite; suites are {sorted(by_name)}")
        overrides = overrides or {}
        suite_rules = {rule.name for rule in by_name[suite_name].rules}
        suite_severity[suite_name] = _severities(
            path, f"suites.{suite_name}.severity", overrides.get("severity") or {}, suite_rules
        )
        suite_thresholds[suite_name] = _thresholds(
            path, f"suites.{suite_name}.thresholds", overrides.get("thresholds") or {}, base=thresholds
        )
    return GateConfig(
        path=path,
        default_severity=_severity(path, "default_severity", document.get("default_severity", "ERROR")),
        severity=_severities(path, "severity", document.get("severity") or {}, all_rules),
        thresholds=thresholds,
        suite_severity=suite_severity,
        suite_thresholds=suite_thresholds,
    )


def _severity(path: Path, where: str, value: Any) -> Severity:
    try:
        return Severity(str(value).upper())
    except ValueError:
        raise GateConfigError(f"{path}: {where}: severity {value!r} must be ERROR or WARN") from None


def _severities(path: Path, where: str, entries: dict[str, Any], rules: set[str]) -> dict[str, Severity]:
    for pattern in entries:
        if not any(fnmatchcase(rule, pattern) for rule in rules):
            raise GateConfigError(f"{path}: {where}: {pattern!r} matches no rule of the suites it applies to")
    return {pattern: _severity(path, f"{where}.{pattern}", value) for pattern, value in entries.items()}


def _thresholds(path: Path, where: str, entries: dict[str, Any], base: Thresholds | None) -> Thresholds:
    names = {f.name for f in fields(Thresholds)}
    unknown = sorted(set(entries) - names)
    if unknown:
        raise GateConfigError(f"{path}: {where}: unknown threshold(s) {unknown}; known: {sorted(names)}")
    missing = sorted(names - set(entries)) if base is None else []
    if missing:
        raise GateConfigError(f"{path}: {where}: threshold(s) {missing} must be set")
    values: dict[str, float] = {}
    for name, value in entries.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise GateConfigError(f"{path}: {where}.{name}: {value!r} must be a number ≥ 0")
        values[name] = float(value)
    if values.get("volume_drop_share", 0) > 1:
        raise GateConfigError(
            f"{path}: {where}.volume_drop_share: a share is between 0 and 1, not {values['volume_drop_share']}"
        )
    return replace(base, **values) if base is not None else Thresholds(**values)
