#!/usr/bin/env bash
# Runs the test suite. Browser tests need Chromium (Debian: apt-get install chromium);
# without it they fail with a message saying so, never skip silently.
# DC_FAST=1 leaves out tests marked slow (they are listed as deselected, not hidden).
set -uo pipefail
cd "$(dirname "$0")/.."
args=("$@")
if [ "${DC_FAST:-0}" = "1" ]; then
  args+=(-m "not slow")
fi
.venv/bin/python -m pytest "${args[@]}"
rc=$?
if [ $rc -eq 5 ]; then
  echo "测试失败：没有收集到任何测试 (pytest exit 5 — no tests were collected)" >&2
  exit 1
fi
exit $rc
