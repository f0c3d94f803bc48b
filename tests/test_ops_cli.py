"""``crs loadtest`` / ``crs crashtest`` option checking (fast: nothing is started)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from crs.cli import build_app
from crs.ops.cli import _parse_ports


def test_parse_ports():
    assert _parse_ports("7921-7930") == (7921, 7930)
    assert _parse_ports("7921-7921") == (7921, 7921)
    for bad in ("7921", "a-b", "7930-7921", "0-10", "70000-70001", "1-2-3"):
        with pytest.raises(ValueError, match="--ports expects LOW-HIGH"):
            _parse_ports(bad)


@pytest.mark.parametrize("command", ["loadtest", "crashtest"])
@pytest.mark.parametrize("ports", ["7921", "7930-7921"])
def test_both_commands_refuse_a_bad_port_range_before_starting_anything(command, ports, tmp_path):
    result = CliRunner().invoke(build_app(), [command, "--ports", ports, "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "--ports expects LOW-HIGH" in result.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("command", ["loadtest", "crashtest"])
def test_a_missing_store_ends_either_command_with_exit_code_2(command, tmp_path):
    result = CliRunner().invoke(build_app(), [command, "--store-dir", str(tmp_path / "nostore"), "--ports", "7921-7930",
                                              "--turns", "1", "--out", str(tmp_path / "r.json"), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and "nostore" in result.output
    assert not (tmp_path / "r.json").exists()
