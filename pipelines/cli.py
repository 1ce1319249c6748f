"""The `examflow` command: the library's command line (examflow.cli) with the Dagster pipeline on
top of it, so that `run`, `demo` and `resolve` run an exam through the assets."""
import sys

from examflow import cli
from pipelines.runner import run_exam


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, run_exam=run_exam)


if __name__ == "__main__":
    sys.exit(main())
