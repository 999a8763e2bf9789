#!/usr/bin/env bash
# Benchmark custlens against Python reference tools (pandas, DuckDB, lifetimes, mlxtend, pyFIM,
# scikit-learn) on the same canonical Parquet. Not part of CI. See benches/README.md.
#
#   benches/compare/run.sh [--customers N] [--seed S] [--workdir DIR] [--repeat K]
#                          [--tools a,b,...] [--rss auto|time|wait4|psutil] [--skip-build] [--wait-idle SEC]
#   benches/compare/run.sh --baskets [--sizes 100000,1000000,5000000] [--seed S] [--repeat K] ...
#                          basket mining at scale: custlens vs pyFIM vs mlxtend on basket files (baskets.py)
#
# WORKDIR (default ${CUSTLENS_COMPARE_DIR:-$HOME/.cache/custlens-compare}) keeps the venv, the
# generated data (data-N-S/), the custlens run (run-N-S/), per-tool results and logs, and the
# report (compare-N-S.json and .md). Everything there is reused on the next run; delete
# data-N-S/ to regenerate after a generator change, venv/ to reinstall.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORKDIR="${CUSTLENS_COMPARE_DIR:-$HOME/.cache/custlens-compare}"
PY_ARGS=()
SCRIPT=compare.py
export CUSTLENS_COMPARE_INVOCATION="benches/compare/run.sh${*:+ $*}"

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "Python options (passed to compare.py):"
  echo "  --customers N   simulated people for custlens gen (default 10000)"
  echo "  --seed S        generator seed (default 1)"
  echo "  --repeat K      runs per measurement: median seconds, max peak RSS (default 3)"
  echo "  --tools LIST    subset of pandas,duckdb,lifetimes,mlxtend,pyfim,sklearn"
  echo "  --rss METHOD    peak-RSS method (default auto: /usr/bin/time -v if present, else os.wait4)"
  echo "  --skip-build    reuse the last release binary instead of cargo build --release"
  echo "  --wait-idle SEC wait up to SEC s for idle CPUs (< 10% busy) before measuring, and re-measure"
  echo "                  (up to 3 times) any run that other processes disturbed"
  echo "With --baskets (baskets.py): --sizes LIST (default 100000,1000000,5000000), --seed, --repeat,"
  echo "  --min-support S (0.01), --min-confidence C (0.1), --tools custlens1,custlens2,pyfim,mlxtend,"
  echo "  --mlxtend-max N (skip mlxtend above N baskets), --rss, --skip-build, --wait-idle"
  echo "Environment: CARGO_TARGET_DIR (default ~/.cache/custlens-target), CUSTLENS_COMPARE_DIR,"
  echo "  CUSTLENS_COMPARE_PYTHON (default python3.11, else python3)."
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --baskets) SCRIPT=baskets.py; shift ;;
    --workdir) [[ $# -ge 2 ]] || { echo "error: --workdir needs a folder" >&2; exit 2; }; WORKDIR="$2"; shift 2 ;;
    --workdir=*) WORKDIR="${1#--workdir=}"; shift ;;
    *) PY_ARGS+=("$1"); shift ;;
  esac
done

die() { echo "error: $*" >&2; exit 1; }

mkdir -p "$WORKDIR" || die "cannot create workdir $WORKDIR"
WORKDIR="$(cd "$WORKDIR" && pwd)"
command -v cargo >/dev/null || die "cargo not found on PATH; install Rust (rustup) first"

# ---- Python and the venv ----------------------------------------------------------------------
PY="${CUSTLENS_COMPARE_PYTHON:-}"
if [[ -z "$PY" ]]; then
  if command -v python3.11 >/dev/null; then PY=python3.11; else PY=python3; fi
fi
command -v "$PY" >/dev/null || die "$PY not found; set CUSTLENS_COMPARE_PYTHON to a Python 3.11 interpreter"
PYVER="$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$PY is Python $PYVER; 3.10+ is needed (the pins are for 3.11)"
[[ "$PYVER" == 3.11.* ]] || echo "warning: $PY is Python $PYVER; requirements.txt was pinned on 3.11, some pins may not install" >&2

VENV="$WORKDIR/venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.custlens-compare-stamp"
UNAVAILABLE="$VENV/.custlens-compare-unavailable"
# The packages the tools import; the rest of requirements.txt are their pinned dependencies.
TOP=(pandas pyarrow duckdb Lifetimes mlxtend scipy scikit-learn pyfim psutil)
WANT="$(sha256sum "$REQ" | cut -d' ' -f1) python-$PYVER"

if [[ -x "$VENV/bin/python" && "$(cat "$STAMP" 2>/dev/null)" == "$WANT" ]]; then
  echo "venv: reusing $VENV" >&2
else
  if [[ -x "$VENV/bin/python" && "$("$VENV/bin/python" -c 'import platform; print(platform.python_version())' 2>/dev/null)" == "$PYVER" ]]; then
    echo "venv: updating $VENV (requirements changed or last install incomplete)" >&2
  else
    echo "venv: creating $VENV with $PY ($PYVER)" >&2
    "$PY" -m venv --clear "$VENV" || die "python -m venv failed; install the venv module for $PY (Debian: apt-get install python3-venv)"
  fi
  PIPLOG="$WORKDIR/pip-install.log"
  : >"$UNAVAILABLE"
  echo "venv: pip install -r requirements.txt (log $PIPLOG; pyfim compiles from source, a minute or so)" >&2
  if "$VENV/bin/python" -m pip install --disable-pip-version-check -r "$REQ" >"$PIPLOG" 2>&1; then
    echo "$WANT" >"$STAMP"
  else
    echo "venv: the pinned set did not install as a whole; installing package by package" >&2
    for pkg in "${TOP[@]}"; do
      if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -c "$REQ" "$pkg" >>"$PIPLOG" 2>&1; then
        echo "$pkg: pip install failed (see $PIPLOG)" | tee -a "$UNAVAILABLE" >&2
      fi
    done
    # No stamp: the next run tries the failed packages again.
  fi
fi

cd "$HERE"
exec "$VENV/bin/python" "$HERE/$SCRIPT" --workdir "$WORKDIR" --repo "$REPO" --unavailable "$UNAVAILABLE" "${PY_ARGS[@]}"
