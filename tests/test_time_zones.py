"""No output depends on the time zone of the process that builds it (rule V6 of docs/rules.md).

One refresh of the bundled page under TZ=Pacific/Kiritimati (UTC+14), then a replay of the same
fetch log under TZ=Pacific/Pago_Pago (UTC-11), each a real `kfor` process: every table of every
schema holds the same rows, marts.meta.built_at aside, which is each build's own clock and must
lie within its run (under Kiritimati it used to be local time, 14 hours "in the future"). The one
end-to-end test of the dbt layer's time handling; what each model does with an instant is pinned
by its dbt unit tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.warehouse import query, table_checksums

from orchestration.core import layout as paths

pytestmark = pytest.mark.extended  # two builds beyond CI's 20 minutes: make test-extended

KFOR = str(Path(sys.executable).parent / "kfor")
ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago")  # 25 hours apart: every date differs


def kfor(*args: str, tz: str) -> tuple[datetime, datetime]:
    """`kfor ARGS` under TZ; returns when it started and ended (UTC)."""
    started = datetime.now(UTC)
    out = subprocess.run([KFOR, *args], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TZ": tz})
    assert out.returncode == 0, out.stderr
    return started, datetime.now(UTC)


def test_a_build_gives_the_same_rows_in_any_time_zone(warehouse_path, tmp_path):
    ran = {ZONES[0]: kfor("refresh", "--source", paths.bundled_snapshot().as_uri(), tz=ZONES[0])}
    first = tmp_path / "first.duckdb"
    shutil.copyfile(warehouse_path, first)
    ran[ZONES[1]] = kfor("replay", tz=ZONES[1])

    for path, zone in ((first, ZONES[0]), (warehouse_path, ZONES[1])):
        (built_at,) = query(path, "SELECT built_at FROM marts.meta")[0]
        started, ended = ran[zone]
        assert started <= built_at <= ended, (zone, built_at, ran[zone])
    schemas = [s for (s,) in query(first, "SELECT DISTINCT schema_name FROM duckdb_tables()")]
    assert {"raw", "staging", "marts", "snapshots"} <= set(schemas)
    for schema in schemas:
        exclude = {"meta": {"built_at"}} if schema == "marts" else {}
        assert table_checksums(first, schema, exclude) \
            == table_checksums(warehouse_path, schema, exclude), schema
    # the same text as well as the same instants: keys built from times read alike
    assert query(first, "SELECT history_key FROM snapshots.snap_command_tenure ORDER BY 1") \
        == query(warehouse_path, "SELECT history_key FROM snapshots.snap_command_tenure ORDER BY 1")
