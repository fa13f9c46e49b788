"""render_plots (orchestration/plots.py): three real PNGs from a built warehouse, written atomically,
the warehouse opened read-only."""

from __future__ import annotations

import struct

from support.warehouse import file_sha256

from orchestration.core.plots import COMMANDERS_PNG, STRENGTH_PNG, TROOPS_PNG, render_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_render_plots_writes_three_pngs(built_warehouse, tmp_path):
    before = file_sha256(built_warehouse)
    out = tmp_path / "img" / "nested"  # created when missing
    paths = render_plots(built_warehouse, out)
    assert [p.name for p in paths] == [TROOPS_PNG, COMMANDERS_PNG, STRENGTH_PNG]
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 10_000, p
        width, height = png_size(data)
        assert width >= 1000 and height >= 600, (p, width, height)
    assert sorted(p.name for p in out.iterdir()) == sorted(  # no temporary files left
        [TROOPS_PNG, COMMANDERS_PNG, STRENGTH_PNG])
    assert file_sha256(built_warehouse) == before


def test_render_plots_replaces_existing_files(built_warehouse, tmp_path):
    (tmp_path / TROOPS_PNG).write_bytes(b"old")
    paths = render_plots(built_warehouse, tmp_path)
    assert paths[0].read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([TROOPS_PNG, COMMANDERS_PNG, STRENGTH_PNG])


def test_render_plots_leaves_pyplot_alone(built_warehouse, tmp_path):
    """The Agg canvas through the object API: no pyplot state, no GUI backend."""
    import subprocess
    import sys

    probe = ("import sys; from pathlib import Path; from orchestration.core.plots import render_plots; "
             f"render_plots(Path({str(built_warehouse)!r}), Path({str(tmp_path)!r})); "
             "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_kfor_plot_refuses_a_file_for_its_folder(built_warehouse, tmp_path):
    from reliability.harness import kfor

    taken = tmp_path / "plots"
    taken.write_text("not a folder")
    for out_dir in (taken, taken / "under"):
        out = kfor("plot", "--out", str(out_dir), env={"KFOR_WAREHOUSE": str(built_warehouse)})
        assert out.returncode == 1, out.stderr
        assert out.stderr.startswith(f"refused: --out {out_dir} is a file or lies under one")
    assert taken.read_text() == "not a folder"
