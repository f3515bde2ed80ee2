"""gates.yml: severities by rule and pattern, per-suite overrides, and loud failures on typos."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.quality.gate_config import GateConfigError, Severity, read_gate_config
from orchestration.settings import PROJECT_ROOT

THRESHOLDS = "thresholds: {amount_ceiling: 1000, volume_drop_share: 0.5}\n"
FRESHNESS_HOURS = 24  # CRM_FRESHNESS_HOURS


def config(tmp_path: Path, text: str):
    path = tmp_path / "gates.yml"
    path.write_text(text)
    return read_gate_config(path, freshness_hours=FRESHNESS_HOURS)


def test_the_shipped_gates_file_loads_and_warns_on_absurd_amounts():
    shipped = read_gate_config(PROJECT_ROOT / "expectations" / "gates.yml", freshness_hours=FRESHNESS_HOURS)
    assert shipped.severity_of("raw.opportunities", "amount_under_ceiling") is Severity.WARN
    assert shipped.severity_of("raw.opportunities", "customer_id_resolves") is Severity.ERROR
    assert shipped.thresholds.freshness_hours == FRESHNESS_HOURS
    assert shipped.thresholds_for("raw.fx_rates").freshness_hours > shipped.thresholds.freshness_hours


def test_a_suite_override_beats_a_pattern_which_beats_the_default(tmp_path):
    gates = config(
        tmp_path,
        THRESHOLDS + "default_severity: WARN\nseverity: {'*_resolves': ERROR}\n"
        "suites: {raw.activities: {severity: {user_id_resolves: WARN}, thresholds: {freshness_hours: 2}}}\n",
    )
    assert gates.severity_of("raw.opportunities", "customer_id_resolves") is Severity.ERROR
    assert gates.severity_of("raw.activities", "user_id_resolves") is Severity.WARN
    assert gates.severity_of("raw.opportunities", "key_unique") is Severity.WARN
    assert gates.thresholds_for("raw.activities").freshness_hours == 2
    assert gates.thresholds_for("raw.activities").amount_ceiling == 1000


@pytest.mark.parametrize(
    "text, message",
    [
        (THRESHOLDS + "severity: {amount_under_cieling: WARN}\n", "matches no rule"),
        (THRESHOLDS + "severity: {key_unique: FATAL}\n", "ERROR or WARN"),
        (THRESHOLDS + "suites: {raw.oportunities: {}}\n", "names no suite"),
        ("thresholds: {amount_ceiling: 1000}\n", "must be set"),
        ("thresholds: {amount_ceiling: 1000, volume_drop_share: 1.5}\n", "between 0 and 1"),
        ("thresholds: {amount_ceiling: lots, volume_drop_share: 0.5}\n", "a number"),
        (THRESHOLDS.replace("}", ", freshness_hours: 72}"), "set by CRM_FRESHNESS_HOURS"),
        ("thresholds: [amount_ceiling\n", "not YAML"),
        ("- a list\n", "not the mapping"),
    ],
)
def test_a_typo_or_a_bad_value_is_refused_with_its_place_in_the_file(tmp_path, text, message):
    with pytest.raises(GateConfigError, match=message):
        config(tmp_path, text)
