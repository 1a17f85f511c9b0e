"""`rolegate schema validate` prints every problem and exits 2; the JSON Schema stays in sync."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from rolegate.cli.main import app
from rolegate.cli.schema import json_schema_text
from rolegate.presets import PRESET_KEYS
from tests.unit.domain.test_schema_build import minimal

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_validate_bad_file_lists_problems_and_exits_2(tmp_path: Path) -> None:
    data = minimal()
    data["permissions"]["assets.manage_media"]["requires"] = ["assets.veiw_media"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["schema", "validate", str(path)])
    assert result.exit_code == 2
    assert (
        "permissions.assets.manage_media.requires[0]: unknown permission 'assets.veiw_media' (did you mean 'assets.view_media'?)"
        in result.output
    )
    assert "Traceback" not in result.output


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_validate_every_preset_file_is_ok() -> None:
    for key in PRESET_KEYS:
        result = runner.invoke(app, ["schema", "validate", str(ROOT / "src/rolegate/presets" / f"{key}.yaml")])
        assert result.exit_code == 0, result.output
        assert ": ok: " in result.output


def test_committed_json_schema_matches_the_format() -> None:
    committed = (ROOT / "schema/product-schema.json").read_text()
    assert committed == json_schema_text(), "run `rolegate schema jsonschema --out schema/product-schema.json`"
    assert "permissions" in json.loads(committed)["properties"]


def test_validate_refuses_a_repeated_key_with_its_path(tmp_path: Path) -> None:
    # The same permission twice: PyYAML alone would keep the second and say nothing.
    text = yaml.safe_dump(minimal(), sort_keys=False)
    text = text.replace("permissions:\n", "permissions:\n  assets.manage_media:\n    label: Manage media, again\n", 1)
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["schema", "validate", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "permissions.assets.manage_media: duplicate key 'assets.manage_media' (lines " in result.output
    assert "Traceback" not in result.output
