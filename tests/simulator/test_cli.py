"""The crm-simulator command."""

from __future__ import annotations

import re

import pytest

from simulator.cli import main
from tests.simulator.conftest import read_rows


def test_generate_advance_and_inject_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--opportunities", "100", "--end-date", "2026-11-20", "--quiet"]) == 0
    assert re.search(r"^opportunities +100 +0$", capsys.readouterr().out, re.MULTILINE)
    url = "sqlite:///data/crm.sqlite"  # the default, relative to the working directory
    assert main(["advance", "--url", url, "--days", "2"]) == 0
    assert "simulated 2026-11-21 to 2026-11-22" in capsys.readouterr().out
    assert main(["inject", "--url", url, "--defect", "hard_deletes", "--table", "contacts", "--count", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("hard_deletes in contacts:") and out.count("  key ") == 2
    assert len(read_rows(f"sqlite:///{tmp_path}/data/crm.sqlite", "fx_rates")) == 2 * (730 + 2)


def test_generate_refuses_an_existing_database_unless_told_to_replace_it(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'crm.sqlite'}"
    arguments = ["generate", "--url", url, "--opportunities", "50", "--end-date", "2026-11-20", "--quiet"]
    assert main(arguments) == 0
    assert main(arguments) == 2
    assert "already holds CRM tables" in capsys.readouterr().err
    assert main([*arguments, "--replace", "--seed", "5"]) == 0
    assert len(read_rows(url, "opportunities")) == 50


def test_a_bad_defect_name_is_an_argument_error(capsys):
    with pytest.raises(SystemExit):
        main(["inject", "--defect", "nonsense"])
    assert "invalid choice" in capsys.readouterr().err
