"""The README stays true: its configuration table and its two commands."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from enrichment_server.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _table_rows() -> dict[str, tuple[str, str]]:
    rows = re.findall(r"^\| `([A-Z][A-Z_]+)` \| (.+?) \| (.+?) \|$", README.read_text(), re.M)
    return {name: (default, meaning) for name, default, meaning in rows}


def _variable(field: str) -> str:
    """The environment variable of a field: its alias (OTEL_...) or ENRICHMENT_<FIELD>."""
    alias = Settings.model_fields[field].validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else f"ENRICHMENT_{field.upper()}"


def _shown(value: object) -> str:
    if isinstance(value, SecretStr) or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def test_configuration_table_lists_every_setting_with_its_default() -> None:
    """Every Settings field is in the README table, with the code's default and description."""
    rows = _table_rows()
    expected = {_variable(name) for name in Settings.model_fields}
    assert set(rows) == expected
    for name, field in Settings.model_fields.items():
        default, meaning = rows[_variable(name)]
        assert default == _shown(field.get_default(call_default_factory=True)), name
        assert meaning == field.description, name


def test_quickstart_names_the_demo_and_test_commands() -> None:
    """The quickstart's two commands are the Makefile targets CI runs."""
    text = README.read_text()
    assert "make demo" in text
    assert "make test" in text
    assert "make test" in (README.parent / ".ci" / "run").read_text()
