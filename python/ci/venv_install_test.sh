#!/usr/bin/env bash
# The package as a user installs it, offline, on Debian's Python: a venv made with
# --system-site-packages (kafka-python, confluent-kafka, pytest from Debian), then
#   pip install --no-build-isolation ./python
# and pytest run OUTSIDE the source tree, so the plugin comes from the installed entry point
# (pytest11, name minikafka) and the broker from $MINIKAFKA_LIB / $MINIKAFKA_BIN.
#   venv_install_test.sh PYTHON PACKAGE_DIR WORK_DIR [pytest args...]
set -euo pipefail
python=$1 pkg=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
"$python" -m venv --system-site-packages "$work/venv"
# A copy, so the build (build/, *.egg-info) never writes into the source tree.
cp -r "$pkg" "$work/src"
rm -rf "$work/src/build" "$work/src"/*.egg-info
cd "$work"
"$work/venv/bin/pip" install --quiet --no-index --no-build-isolation --disable-pip-version-check "$work/src"
"$work/venv/bin/python" - <<'PY'
import importlib.metadata as md
eps = [ep for ep in md.entry_points(group="pytest11") if ep.name == "minikafka"]
assert eps and eps[0].value == "minikafka.pytest_plugin", eps
import minikafka
assert "/venv/" in minikafka.__file__, minikafka.__file__
print("installed", minikafka.__version__, "at", minikafka.__file__)
PY
mkdir -p "$work/usertests"
cp "$pkg/tests/test_usage_notes.py" "$pkg/tests/conftest.py" "$work/usertests/"
cd "$work/usertests"
exec "$work/venv/bin/python" -m pytest -p no:cacheprovider -q "$@" .
