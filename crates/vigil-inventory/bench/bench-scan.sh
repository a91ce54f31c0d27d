#!/usr/bin/env bash
# Times vigil's posture scan against Prowler and Cloud Custodian on the same moto account.
#
# One moto server gets the vigil test fixture (plus VIGIL_BENCH_SCALE extra users, buckets
# and security groups); then each tool scans it with /usr/bin/time -v, in the same run.
# Prowler and c7n are installed in their own virtualenvs under /tmp (not in the repo).
#
#   crates/vigil-inventory/bench/bench-scan.sh            # from the repository root
#   VIGIL_BENCH_SCALE=50 crates/vigil-inventory/bench/bench-scan.sh
#
# The numbers are not like for like: Prowler runs ~500 checks over more services (most of
# which moto answers with errors, each retried once), Custodian runs only the policies in
# $WORK/c7n.yml. Compare wall time and peak RSS (Maximum resident set size) with that in mind.
set -euo pipefail

WORK=${WORK:-/tmp/vigil-scan-bench}
PORT=${PORT:-5077}
SCALE=${VIGIL_BENCH_SCALE:-20}
ENDPOINT="http://127.0.0.1:$PORT"
mkdir -p "$WORK"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="$ENDPOINT"

venv() { # name, packages...
  local dir="$WORK/venv-$1"; shift
  if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet "$@"
  fi
}
venv prowler prowler
venv c7n c7n

echo "[{\"ami_id\": \"ami-0123456789abcdef0\", \"name\": \"bench\", \"owner_id\": \"123456789012\", \"public\": false, \"virtualization_type\": \"hvm\", \"architecture\": \"x86_64\", \"state\": \"available\", \"platform\": null, \"root_device_type\": \"ebs\", \"root_device_name\": \"/dev/xvda\", \"sriov\": \"simple\", \"hypervisor\": \"xen\"}]" > "$WORK/amis.json"
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_AMIS_PATH="$WORK/amis.json" \
  python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$ENDPOINT/moto-api/data.json" >/dev/null && break; sleep 0.3; done

cargo build --release -p vigil-inventory --example scan_bench
BENCH=${CARGO_TARGET_DIR:-target}/release/examples/scan_bench

# Build the fixture once, with vigil's timing as the first measurement.
echo "== vigil (builds the fixture first, then scans)"
VIGIL_BENCH_ENDPOINT="$ENDPOINT" VIGIL_BENCH_BUILD=1 VIGIL_BENCH_SCALE="$SCALE" "$BENCH" >/dev/null
echo "== vigil"
VIGIL_BENCH_ENDPOINT="$ENDPOINT" /usr/bin/time -v "$BENCH" 2>"$WORK/vigil.time" | tee "$WORK/vigil.out"
grep -E "Elapsed|Maximum resident" "$WORK/vigil.time"

echo "== prowler"
/usr/bin/time -v "$WORK/venv-prowler/bin/prowler" aws --region us-east-1 \
  --aws-retries-max-attempts 1 --output-directory "$WORK/prowler" --no-banner \
  >"$WORK/prowler.out" 2>"$WORK/prowler.time" || true
grep -E "Elapsed|Maximum resident" "$WORK/prowler.time"

cat >"$WORK/c7n.yml" <<'YAML'
policies:
  - {name: s3-public, resource: s3, filters: [{type: global-grants}]}
  - {name: s3-unencrypted, resource: s3, filters: [{type: bucket-encryption, state: false}]}
  - {name: sg-open-ssh, resource: security-group, filters: [{type: ingress, Ports: [22, 3389], Cidr: {value: 0.0.0.0/0}}]}
  - {name: ebs-unencrypted, resource: ebs, filters: [{Encrypted: false}]}
  - {name: ebs-snapshot-public, resource: ebs-snapshot, filters: [{type: cross-account}]}
  - {name: iam-user-no-mfa, resource: iam-user, filters: [{type: mfa-device, value: empty}]}
  - {name: iam-old-keys, resource: iam-user, filters: [{type: access-key, key: Status, value: Active}]}
  - {name: kms-no-rotation, resource: kms-key, filters: [{type: key-rotation-status, key: KeyRotationEnabled, value: false}]}
  - {name: trail-no-validation, resource: cloudtrail, filters: [{LogFileValidationEnabled: false}]}
  - {name: imdsv1, resource: ec2, filters: [{MetadataOptions.HttpTokens: optional}]}
YAML
echo "== cloud custodian"
/usr/bin/time -v "$WORK/venv-c7n/bin/custodian" run -s "$WORK/c7n-out" --region us-east-1 "$WORK/c7n.yml" \
  >"$WORK/c7n.out" 2>"$WORK/c7n.time" || true
grep -E "Elapsed|Maximum resident" "$WORK/c7n.time"
