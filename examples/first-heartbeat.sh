#!/usr/bin/env bash
# From a running `swf-iam serve` (shipped configuration) to an allowed heartbeat and a
# denied one, with the aws CLI v2. Every command is printed before it runs.
#
#   swf-iam serve &                       # registers domain orders, types hb and wf
#   examples/first-heartbeat.sh http://127.0.0.1:4599
#
# Exit 0 when the worker's heartbeat is allowed and the billing worker's is denied with
# OperationNotPermittedFault; 1 otherwise. AWS_CLI picks the aws CLI binary.
set -euo pipefail
ENDPOINT="${1:?usage: examples/first-heartbeat.sh ENDPOINT (e.g. http://127.0.0.1:4599)}"
AWS="${AWS_CLI:-aws}"
if [ -z "${AWS_CLI:-}" ] && [ -x /usr/bin/aws ]; then AWS=/usr/bin/aws; fi
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
# The example principals' keys (policies/swf-iam.json).
OPERATOR=(env AWS_ACCESS_KEY_ID=AKIAEXAMPLEOPERATOR1 AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY3)
WORKER=(env AWS_ACCESS_KEY_ID=AKIAEXAMPLEWORKER01 AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1)
BILLING=(env AWS_ACCESS_KEY_ID=AKIAEXAMPLEBILLING01 AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY2)

say() { printf '\n$ %s\n' "$*" >&2; }
swf() { local who=$1; shift; local -n creds="$who"; say "[$who] aws swf $*"; "${creds[@]}" "$AWS" swf "$@" --endpoint-url "$ENDPOINT"; }

# 1. The operator starts a workflow ...
swf OPERATOR start-workflow-execution --domain orders --workflow-id "first-$$-$RANDOM" \
  --workflow-type name=wf,version=1 --output text
# 2. ... takes its decision task ...
DECISION=$(swf OPERATOR poll-for-decision-task --domain orders --task-list name=deciders \
  --query taskToken --output text)
# 3. ... and schedules activity hb (task list `workers` by default).
swf OPERATOR respond-decision-task-completed --task-token "$DECISION" --decisions \
  '[{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityType":{"name":"hb","version":"1"},"activityId":"hb-1"}}]'
# 4. The worker takes the activity task ...
TOKEN=$(swf WORKER poll-for-activity-task --domain orders --task-list name=workers \
  --query taskToken --output text)
if [ -z "$TOKEN" ] || [ "$TOKEN" = None ]; then echo "no activity task arrived" >&2; exit 1; fi
# 5. ... and heartbeats: allowed.
swf WORKER record-activity-task-heartbeat --task-token "$TOKEN" --details 50%

# The billing worker may not heartbeat on orders: OperationNotPermittedFault, exit 254.
set +e
OUT=$(swf BILLING record-activity-task-heartbeat --task-token "$TOKEN" --details 99% 2>&1)
CODE=$?
set -e
printf '%s\n' "$OUT"
if [ "$CODE" -eq 254 ] && grep -q OperationNotPermittedFault <<<"$OUT"; then
  printf '\nallowed for the worker, denied for the billing worker: as IAM decides\n' >&2
else
  printf '\nexpected OperationNotPermittedFault (exit 254), got exit %s\n' "$CODE" >&2
  exit 1
fi
