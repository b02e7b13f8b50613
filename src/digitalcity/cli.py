"""The `digitalcity` console command.

`digitalcity demo`, `digitalcity serve`, `digitalcity worker`, `digitalcity audit verify`
and every Django management command (`digitalcity migrate`, `digitalcity createsuperuser`,
…) are management commands, so they also work through `python -m django`.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digitalcity.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "digitalcity"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
