"""Settings are checked before anything is fetched or written, each refusal naming the setting
(issue 16): overlapping places, a directory or a derived name where a warehouse file is expected,
a file where a folder is expected, a URL, and numbers that are nan, negative or absurd."""

from __future__ import annotations

import os

import pytest

from orchestration.core.settings import Settings, SettingsError


def env(tmp_path, **extra) -> dict:
    base = {"KFOR_WAREHOUSE": str(tmp_path / "w" / "kfor.duckdb"),
            "KFOR_RAW_DIR": str(tmp_path / "raw"), "DAGSTER_HOME": str(tmp_path / "dh")}
    return {**base, **extra}


def refused(tmp_path, **extra) -> str:
    with pytest.raises(SettingsError) as e:
        Settings.from_env(env(tmp_path, **extra))
    return str(e.value)


def test_the_defaults_and_a_plain_environment_are_accepted(tmp_path):
    s = Settings.from_env(env(tmp_path))
    assert s.warehouse == tmp_path.resolve() / "w" / "kfor.duckdb"
    assert (s.keep, s.lock_wait, s.freshness_hours, s.check_every_hours) == (5, 600.0, 48.0, 24.0)
    assert Settings.from_env({}).warehouse.name == "kfor.duckdb"


@pytest.mark.parametrize("warehouse, setting", [
    ("raw/fetch_log.jsonl", "KFOR_RAW_DIR"),          # a file the raw folder owns
    ("raw/pages/kfor.duckdb", "KFOR_RAW_DIR"),        # inside the raw folder
    ("dh/kfor.duckdb", "DAGSTER_HOME"),               # inside the instance
])
def test_a_warehouse_inside_another_settings_place_is_refused(tmp_path, warehouse, setting):
    message = refused(tmp_path, KFOR_WAREHOUSE=str(tmp_path / warehouse))
    assert "KFOR_WAREHOUSE" in message and setting in message and "overlap" in message


def test_the_raw_folder_and_the_instance_may_not_contain_each_other(tmp_path):
    assert "KFOR_RAW_DIR and DAGSTER_HOME" in refused(tmp_path, DAGSTER_HOME=str(tmp_path / "raw"))
    assert "KFOR_RAW_DIR and DAGSTER_HOME" in refused(tmp_path,
                                                      DAGSTER_HOME=str(tmp_path / "raw" / "dh"))
    # a raw folder that is one of the warehouse's own folders
    message = refused(tmp_path, KFOR_RAW_DIR=str(tmp_path / "w" / "kfor.duckdb.history"))
    assert "KFOR_WAREHOUSE and KFOR_RAW_DIR" in message


def test_a_directory_where_the_warehouse_file_is_expected_is_refused(tmp_path):
    (tmp_path / "w").mkdir()
    message = refused(tmp_path, KFOR_WAREHOUSE=str(tmp_path / "w"))
    assert message.startswith(f"KFOR_WAREHOUSE={tmp_path / 'w'} is a directory")


@pytest.mark.parametrize("name", ["kfor.duckdb.lock", "kfor.duckdb.history", "x.exports",
                                  ".kfor.duckdb.build", "kfor.duckdb.wal",
                                  "kfor.duckdb.corrupt-20260101T000000000000Z"])
def test_a_warehouse_named_like_another_warehouses_file_is_refused(tmp_path, name):
    assert "cannot be a warehouse" in refused(tmp_path, KFOR_WAREHOUSE=str(tmp_path / "w" / name))


@pytest.mark.parametrize("setting", ["DAGSTER_HOME", "KFOR_RAW_DIR"])
def test_a_file_where_a_folder_is_expected_is_refused_by_name(tmp_path, setting):
    (tmp_path / "afile").write_text("x")
    assert refused(tmp_path, **{setting: str(tmp_path / "afile")}).startswith(
        f"{setting}={tmp_path / 'afile'} is a file")


@pytest.mark.parametrize("value, why", [
    ("postgresql://kfor:s3cret@127.0.0.1:5432/kfor", "carries a password"),
    ("postgresql://kfor@127.0.0.1:5432/kfor?password=s3cret", "carries a password"),
    ("postgresql://kfor@127.0.0.1:5432/", "names no database"),
    ("postgresql://kfor@127.0.0.1:port/kfor", "port that is not a number"),
    ("postgresql://kfor@127.0.0.1/kfor?sslmode=require&passfile=/s3cret", "passfile is not one"),
    ("https://kfor:s3cret@example.org/kfor.duckdb", "looks like a URL"),
])
def test_a_url_the_warehouse_cannot_use_is_refused_without_its_password(tmp_path, value, why):
    message = refused(tmp_path, KFOR_WAREHOUSE=value)
    assert message.startswith("KFOR_WAREHOUSE=") and why in message and "s3cret" not in message


def test_a_postgres_url_names_a_server_warehouse_with_local_files_of_its_own(tmp_path):
    s = Settings.from_env(env(tmp_path, KFOR_WAREHOUSE="postgresql://ana@db.example:6543/kfor"
                                                       "?sslmode=verify-full"))
    engine = s.engine
    assert (engine.kind, engine.dbt_target) == ("postgres", "postgres")
    assert s.warehouse_name == s.raw_owner == "postgresql://db.example:6543/kfor?sslmode=verify-full"
    # dbt reaches the same database by libpq's variables, and builds the scratch schemas
    assert engine.dbt_environment() == {"PGHOST": "db.example", "PGPORT": "6543", "PGUSER": "ana",
                                        "PGDATABASE": "kfor", "PGSSLMODE": "verify-full",
                                        "KFOR_SCHEMA_PREFIX": "build_"}
    other = Settings.from_env(env(tmp_path, KFOR_WAREHOUSE="postgresql://ana@db.example:6543/stg"))
    assert s.files.dbt_target != other.files.dbt_target  # two databases never share dbt's state
    assert Settings.from_env(env(tmp_path)).engine.kind == "duckdb"


@pytest.mark.parametrize("value", ["mysql://kfor:s3cret@127.0.0.1/dagster",
                                   "host=db user=kfor password=s3cret dbname=dagster",
                                   "kfor:s3cret@db:5432/dagster"])
def test_the_instance_url_must_be_postgres_and_its_value_is_not_repeated(tmp_path, value):
    message = refused(tmp_path, DAGSTER_PG_URL=value)
    assert message.startswith("DAGSTER_PG_URL must be a postgresql://") and "s3cret" not in message


def test_the_instance_url_is_kept_but_never_shown_in_the_settings_repr(tmp_path):
    url = "postgresql://kfor:s3cret@127.0.0.1:5432/dagster"
    settings = Settings.from_env(env(tmp_path, DAGSTER_PG_URL=url))
    assert settings.dagster_pg_url == url and "s3cret" not in repr(settings)


@pytest.mark.parametrize("value", ["host=db user=kfor password=s3cret dbname=kfor",
                                   "kfor:s3cret@db:5432/kfor"])
def test_a_connection_string_is_not_a_path_and_is_not_repeated(tmp_path, value):
    message = refused(tmp_path, KFOR_WAREHOUSE=value)
    assert message.startswith("KFOR_WAREHOUSE looks like a database connection string")
    assert "s3cret" not in message


@pytest.mark.parametrize("name, value", [
    ("KFOR_KEEP", "nan"), ("KFOR_KEEP", "-1"), ("KFOR_KEEP", "2.5"), ("KFOR_KEEP", "1e9"),
    ("KFOR_LOCK_WAIT", "nan"), ("KFOR_LOCK_WAIT", "inf"), ("KFOR_LOCK_WAIT", "-5"),
    ("KFOR_LOCK_WAIT", "1e12"), ("KFOR_FRESHNESS_HOURS", "0"), ("KFOR_FRESHNESS_HOURS", "abc"),
    ("KFOR_CHECK_EVERY_HOURS", "nan"), ("KFOR_CHECK_EVERY_HOURS", "100000"),
])
def test_numbers_are_finite_and_in_range(tmp_path, name, value):
    message = refused(tmp_path, **{name: value})
    assert message.startswith(f"{name}={value!r}") and "\n" not in message


def test_a_webhook_must_be_http(tmp_path):
    assert "KFOR_WEBHOOK_URL" in refused(tmp_path, KFOR_WEBHOOK_URL="file:///etc/passwd")


def test_a_symlinked_warehouse_is_followed_to_its_target(tmp_path):
    target = tmp_path / "real" / "prod.duckdb"
    target.parent.mkdir()
    (tmp_path / "w").mkdir()
    os.symlink(target, tmp_path / "w" / "kfor.duckdb")
    s = Settings.from_env(env(tmp_path))
    assert s.warehouse == target.resolve()
    assert s.files.history == target.resolve().parent / "prod.duckdb.history"


def test_a_template_in_a_path_stays_text(tmp_path):
    """No setting is rendered as a template (dbt reads the scratch path with env_var())."""
    s = Settings.from_env(env(tmp_path, KFOR_WAREHOUSE=str(tmp_path / "{{ 7*7 }}" / "k.duckdb")))
    assert "{{ 7*7 }}" in str(s.files.build)


@pytest.mark.parametrize("inside", [".kfor.duckdb.build", "kfor.duckdb.history",
                                    "kfor.duckdb.exports/parquet"])
@pytest.mark.parametrize("setting", ["KFOR_WAREHOUSE", "KFOR_RAW_DIR", "DAGSTER_HOME"])
def test_nothing_may_live_inside_a_folder_another_warehouse_owns(tmp_path, inside, setting):
    """Its recovery (the scratch build), pruning (kept versions) or export cleaning would delete
    it (found by a hostile review: a warehouse at w/.kfor.duckdb.build/kfor.duckdb was deleted by
    kfor.duckdb's next refresh)."""
    target = tmp_path / "w" / inside / ("kfor.duckdb" if setting == "KFOR_WAREHOUSE" else "x")
    assert "a folder another warehouse owns" in refused(tmp_path, **{setting: str(target)})


def test_an_empty_source_is_refused_not_taken_for_the_default(tmp_path):
    settings = Settings.from_env({"KFOR_WAREHOUSE": str(tmp_path / "w.duckdb")})
    assert settings.with_source(None) is settings
    with pytest.raises(SettingsError, match="--source is empty"):
        settings.with_source(" ")
