#!/bin/bash
# Ingests a benchmark file with the memory of a small machine: one `custlens bench --step`
# conversion (or one `custlens ingest --config`) in a memory cgroup limited to LIMIT (root;
# cgroup v1 or v2), then the cgroup's peak usage and whether the OOM killer struck. See
# benches/README.md, "Bounded memory".
#
# usage: benches/spill_under_limit.sh LIMIT FORMAT INPUT OUT_DIR [SPILL]
#        benches/spill_under_limit.sh LIMIT --config CONFIG OUT_DIR [SPILL]
#   LIMIT   e.g. 1500M        FORMAT  shopify | taobao-orders
#   INPUT   a file written by `custlens bench --suite ingest` (~/.cache/custlens/bench/ingest-r.../)
#   CONFIG  a config whose [[sources]] list the files (e.g. those of benches/gen_signals.py)
#   OUT_DIR a fresh folder for the lake   SPILL  auto | always | never (default always)
# env: CUSTLENS (default target/release/custlens), RUST_LOG (default custlens=debug)
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,13p "$0"; exit 2; }
limit=$1 bin=${CUSTLENS:-target/release/custlens}
if [ "$2" = --config ]; then
  out=$4 spill=${5:-always}
  cmd=("$bin" ingest --config "$3" --lake "$out" --set "ingest.spill=$spill")
else
  format=$2 input=$3 out=$4 spill=${5:-always}
  step="{\"tool\":\"custlens\",\"format\":\"$format\",\"input\":\"$input\",\"out_dir\":\"$out\",\"spill\":\"$spill\"}"
  cmd=("$bin" bench --suite ingest --step "$step")
fi
if [ -d /sys/fs/cgroup/memory ]; then
  cg=/sys/fs/cgroup/memory/custlens-$$
  mkdir "$cg" && echo "$limit" > "$cg/memory.limit_in_bytes"
  peak() { echo $(( $(cat "$cg/memory.max_usage_in_bytes") >> 20 )); }
  ooms() { grep -s '^oom_kill ' "$cg/memory.oom_control" | cut -d' ' -f2; }
else
  cg=/sys/fs/cgroup/custlens-$$
  mkdir "$cg" && echo "$limit" > "$cg/memory.max"
  peak() { [ -f "$cg/memory.peak" ] && echo $(( $(cat "$cg/memory.peak") >> 20 )) || echo "?"; }
  ooms() { grep -s '^oom_kill ' "$cg/memory.events" | cut -d' ' -f2; }
fi
trap 'rmdir "$cg" 2>/dev/null || true' EXIT
rc=0
RUST_LOG=${RUST_LOG:-custlens=debug} /usr/bin/time -f "%e s wall, %U s user, %S s sys" \
  bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cg" "${cmd[@]}" || rc=$?
echo "limit $limit: exit $rc, cgroup peak $(peak) MB, OOM kills $(ooms)"
exit $rc
