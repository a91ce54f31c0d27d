#!/usr/bin/env bash
# Times vigil's posture scan against Prowler and Cloud Custodian on the same moto account.
#
# One moto server gets the vigil test fixture (plus VIGIL_BENCH_SCALE extra users, buckets
# and security groups), built once by vigil's scan_bench example; then each tool scans it
# under /usr/bin/time -v, in the same run. Prowler and c7n are installed in their own
# virtualenvs under /tmp (not in the repo).
#
#   crates/vigil-inventory/bench/bench-scan.sh            # from the repository root
#   VIGIL_BENCH_SCALE=50 VIGIL_RUNS=5 PROWLER_RUNS=2 crates/vigil-inventory/bench/bench-scan.sh
#   PROFILE=release crates/vigil-inventory/bench/bench-scan.sh   # optimised vigil (slow build)
#   SKIP_BUILD=1 ...                                             # use the binary already built
#
# The numbers are not like for like: Prowler runs ~500 checks over more services (most of
# which moto answers with errors; retries are capped at 1 attempt), Custodian runs only the
# policies in bench/custodian-policies.yml, with its resource cache off (--cache-period 0:
# by default c7n reuses resource lists for 15 minutes, even from a previous moto server). Compare wall time and peak RSS (Maximum
# resident set size) with that in mind.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
WORK=${WORK:-/tmp/vigil-scan-bench}
PORT=${PORT:-5077}
SCALE=${VIGIL_BENCH_SCALE:-20}
PROFILE=${PROFILE:-debug}
VIGIL_RUNS=${VIGIL_RUNS:-3}
PROWLER_RUNS=${PROWLER_RUNS:-1}
PROWLER_VENV=${PROWLER_VENV:-/tmp/prowler-venv}
C7N_VENV=${C7N_VENV:-/tmp/c7n-venv}
POLICIES=${POLICIES:-$HERE/custodian-policies.yml}
ENDPOINT="http://127.0.0.1:$PORT"
mkdir -p "$WORK"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="$ENDPOINT"
unset AWS_PROFILE AWS_SESSION_TOKEN || true

venv() { # dir, packages...
  local dir="$1"; shift
  if [ ! -x "$dir/bin/python" ]; then python3 -m venv "$dir"; fi
  if ! "$dir/bin/pip" show "$1" >/dev/null 2>&1; then "$dir/bin/pip" install --quiet "$@"; fi
}
venv "$PROWLER_VENV" prowler
venv "$C7N_VENV" c7n

# Build first, so the compiler is not competing with moto or the scans.
if [ "$PROFILE" = release ]; then CARGO_FLAGS=--release; else CARGO_FLAGS=; fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && cargo build $CARGO_FLAGS -p vigil-inventory --example scan_bench)
fi
BENCH=${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/examples/scan_bench

# The image the fixture launches its instances from (vigil_inventory tests: fixture::AMI).
cat >"$WORK/amis.json" <<'JSON'
[{"ami_id": "ami-0123456789abcdef0", "name": "vigil-bench-image", "description": "vigil test image", "owner_id": "123456789012", "public": false, "virtualization_type": "hvm", "architecture": "x86_64", "state": "available", "platform": null, "root_device_type": "ebs", "root_device_name": "/dev/xvda", "sriov": "simple", "hypervisor": "xen"}]
JSON
if curl -sf "$ENDPOINT/moto-api/data.json" >/dev/null 2>&1; then
  echo "port $PORT is already serving; stop that server or set PORT" >&2; exit 1
fi
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_AMIS_PATH="$WORK/amis.json" \
  python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$ENDPOINT/moto-api/data.json" >/dev/null && break; sleep 0.3; done

# wall seconds and peak RSS in MB from a /usr/bin/time -v report
measure() {
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
    /User time \(seconds\)/ { cpu += $2 }
    /System time \(seconds\)/ { cpu += $2 }
    /Maximum resident set size/ { rss = $2 / 1024 }
    END { printf "%.2f s wall, %.2f s CPU (user+sys), %.0f MB peak RSS", s, cpu, rss }' "$1"
}

echo "== fixture (vigil scan_bench, scale $SCALE; not timed)"
VIGIL_BENCH_ENDPOINT="$ENDPOINT" VIGIL_BENCH_BUILD=1 VIGIL_BENCH_SCALE="$SCALE" "$BENCH" \
  >"$WORK/fixture.out" 2>"$WORK/fixture.err"
cat "$WORK/fixture.err"

for run in $(seq 1 "$VIGIL_RUNS"); do
  echo "== vigil ($PROFILE build) run $run"
  VIGIL_BENCH_ENDPOINT="$ENDPOINT" /usr/bin/time -v "$BENCH" \
    >"$WORK/vigil-$run.out" 2>"$WORK/vigil-$run.time"
  grep -E "^(collect|api calls|results)" "$WORK/vigil-$run.out" || true
  echo "   $(measure "$WORK/vigil-$run.time")"
done

for run in $(seq 1 "$PROWLER_RUNS"); do
  echo "== prowler run $run"
  rm -rf "$WORK/prowler-$run"
  /usr/bin/time -v "$PROWLER_VENV/bin/prowler" aws --region us-east-1 \
    --aws-retries-max-attempts 1 --output-directory "$WORK/prowler-$run" --no-banner \
    --output-formats csv >"$WORK/prowler-$run.out" 2>"$WORK/prowler-$run.time" \
    || echo "   (prowler exited $?: 3 means some checks failed)"
  csv=$(ls "$WORK/prowler-$run"/*.csv 2>/dev/null | head -1 || true)
  if [ -n "$csv" ]; then
    python3 - "$csv" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1], newline=""), delimiter=";"))
status = collections.Counter(r.get("STATUS", "?") for r in rows)
checks = {r.get("CHECK_ID") for r in rows}
failing = {r.get("CHECK_ID") for r in rows if r.get("STATUS") == "FAIL"}
print(f"   findings {len(rows)} {dict(status)}; checks with results {len(checks)}, failing {len(failing)}")
PY
  fi
  echo "   $(measure "$WORK/prowler-$run.time")"
done

echo "== cloud custodian ($(grep -c '^ *- *{* *name:' "$POLICIES") policies in $POLICIES)"
rm -rf "$WORK/c7n-out"
/usr/bin/time -v "$C7N_VENV/bin/custodian" run -s "$WORK/c7n-out" --region us-east-1 --cache-period 0 \
  "$POLICIES" >"$WORK/c7n.out" 2>"$WORK/c7n.time" || echo "   (custodian exited $?)"
python3 - "$WORK/c7n-out" <<'PY'
import json, pathlib, sys
total, matched = 0, 0
for f in sorted(pathlib.Path(sys.argv[1]).glob("*/resources.json")):
    n = len(json.load(open(f)))
    total += n
    matched += n > 0
    print(f"   {f.parent.name:<30} {n}")
print(f"   matched resources {total}, policies with matches {matched}")
PY
grep -ciE "error|exception" "$WORK/c7n.time" | sed 's/^/   log lines with error\/exception: /' || true
echo "   $(measure "$WORK/c7n.time")"
