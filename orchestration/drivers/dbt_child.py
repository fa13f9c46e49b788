"""`kfor-dbt`: dbt's own command line (the `dbt` entry point), in a process that dies with the
refresh that started it. dagster-dbt starts dbt as a child process; a refresh killed with
SIGKILL cannot stop its child, so the child asks the kernel to kill it when its parent dies
(PR_SET_PDEATHSIG, Linux). Elsewhere it runs as plain dbt.

`kfor-dbt --version` answers from the installed package's metadata, in dbt's own format:
dagster-dbt asks for the version before every invocation, and dbt's own `--version` imports all of
dbt and asks PyPI for the latest release (about 3 s, and the network, in every refresh)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

from orchestration.core.layout import DBT_PARENT_VARIABLE

PR_SET_PDEATHSIG = 1


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from importlib.metadata import version

        print(f"Core:\n  - installed: {version('dbt-core')}\n\nPlugins:\n"
              f"  - duckdb: {version('dbt-duckdb')}")
        return
    # The starter names itself: a parent killed while this interpreter started would otherwise
    # leave us adopted by init, arming the signal against the wrong process.
    parent = int(os.environ.get(DBT_PARENT_VARIABLE) or os.getppid())
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # no prctl: not Linux
    if os.getppid() != parent:  # the parent died before the signal was armed
        sys.exit(1)
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
