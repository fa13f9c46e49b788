"""A Postgres warehouse whose server cannot be reached (issues 24, 25), without a server: a port
on 127.0.0.1 nothing listens on. `kfor status` says so first and still shows the rest; a refresh
fails in one line, logged and named without the URL's user. About two seconds: the session
fails at its lock, before anything is fetched."""

from __future__ import annotations

from support.fetch_log import fetches
from support.postgres import free_port

from orchestration.core.layout import bundled_snapshot
from orchestration.drivers.cli import main


def test_status_and_a_refresh_say_the_server_cannot_be_reached(monkeypatch, raw_dir, capsys):
    url = f"postgresql://kfor@127.0.0.1:{free_port()}/kfor"
    monkeypatch.setenv("KFOR_WAREHOUSE", url)
    shown = url.replace("kfor@", "")

    assert main(["status"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"published: UNREACHABLE: cannot connect to {shown}: ")
    assert "advisory lock on" in out and "last refreshes (0 of 0)" in out and "kfor@" not in out

    assert main(["refresh", "--source", bundled_snapshot().as_uri()]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"failed: ConnectionError: cannot connect to {shown}")
    assert fetches(raw_dir)[-1]["outcome"].startswith("failed: ConnectionError: cannot connect")
