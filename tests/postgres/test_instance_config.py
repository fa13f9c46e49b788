"""Which dagster.yaml DAGSTER_HOME gets (launch.prepare_home, for `kfor` and `make dev`): the
Postgres variant exactly when DAGSTER_PG_URL is set, naming the variable and never its value, and
a refusal when an existing yaml contradicts the variable. No server needed: no instance is opened."""

from __future__ import annotations

import pytest
import yaml

from orchestration.drivers import launch
from orchestration.drivers.launch import InstanceUnavailable, prepare_home

SECRET_URL = "postgresql://kfor:pw-Zq81x@db.example.internal:5432/dagster"


def test_the_postgres_variant_is_the_default_with_dagster_postgres_storage():
    default = yaml.safe_load(launch.DAGSTER_CONFIG.read_text())
    postgres = yaml.safe_load(launch.DAGSTER_PG_CONFIG.read_text())
    assert postgres.pop("storage") == {"postgres": {"postgres_url": {"env": launch.PG_URL_VARIABLE}}}
    assert postgres == default  # run monitoring, telemetry, compute logs: one behaviour on both
    assert "storage" not in default  # the default: SQLite under DAGSTER_HOME


def test_without_the_variable_home_gets_the_default(tmp_path):
    home = prepare_home(tmp_path / "home", None)
    assert (home / "dagster.yaml").read_bytes() == launch.DAGSTER_CONFIG.read_bytes()


def test_with_the_variable_home_names_it_and_never_holds_its_value(tmp_path):
    home = prepare_home(tmp_path / "home", SECRET_URL)
    assert (home / "dagster.yaml").read_bytes() == launch.DAGSTER_PG_CONFIG.read_bytes()
    for path in home.rglob("*"):
        assert b"pw-Zq81x" not in path.read_bytes() and b"example.internal" not in path.read_bytes()


def test_an_existing_sqlite_yaml_is_refused_when_the_variable_is_set(tmp_path):
    """Runs must not go silently to SQLite once the user asked for Postgres."""
    home = prepare_home(tmp_path / "home", None)
    with pytest.raises(InstanceUnavailable, match="keeps runs in SQLite") as refused:
        prepare_home(home, SECRET_URL)
    assert "pw-Zq81x" not in str(refused.value)
    assert (home / "dagster.yaml").read_bytes() == launch.DAGSTER_CONFIG.read_bytes()  # kept as it was


def test_a_postgres_yaml_without_the_variable_is_refused(tmp_path):
    home = prepare_home(tmp_path / "home", SECRET_URL)
    with pytest.raises(InstanceUnavailable, match=f"{launch.PG_URL_VARIABLE}, which is not set"):
        prepare_home(home, None)
