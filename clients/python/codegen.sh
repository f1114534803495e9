#!/usr/bin/env bash
# Regenerate the client's models and operations (src/export_gateway_client/_generated) from
# ../../schema.graphql and operations/*.graphql with ariadne-codegen.
#   codegen.sh CODEGEN            write them in place
#   codegen.sh CODEGEN --check    write them in a temporary copy; fail if they differ (stale)
# CODEGEN is the ariadne-codegen executable (the Makefile's .venv-codegen/bin/ariadne-codegen).
set -euo pipefail
codegen="$(realpath "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
generated=src/export_gateway_client/_generated

if [[ "${2:-}" != "--check" ]]; then
  cd "$here"
  rm -rf "$generated"
  "$codegen" client >/dev/null
  rm -rf "$generated/__pycache__"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The same layout as the repository: the configuration's relative paths hold, and the ruff
# that ariadne-codegen runs on its output finds the same settings and the same package (its
# import sorting tells first-party imports by the package around the file).
mkdir -p "$work/clients/python"
cp "$here/../../schema.graphql" "$here/../../pyproject.toml" "$work/"
cp -r "$here/pyproject.toml" "$here/operations" "$here/src" "$work/clients/python/"
cd "$work/clients/python"
rm -rf "$generated"
"$codegen" client >/dev/null
if ! diff -r -x __pycache__ "$here/$generated" "$generated" >"$work/diff"; then
  head -40 "$work/diff"
  echo "clients/python/$generated is stale: run make codegen" >&2
  exit 1
fi
echo "clients/python/$generated is current"
