"""The heartbeat flow with boto3 against an SWF endpoint guarded by swf-iam.

Usage: boto3_flow.py ENDPOINT MODE  (MODE: serve | proxy)
Keys come from the environment: OPERATOR_KEY/SECRET, WORKER_KEY/SECRET, OUTSIDER_KEY/SECRET.
Exits 0 and prints "boto3 flow: ok" when every check passes.
"""
import os
import sys

import boto3
from botocore.config import Config

endpoint, mode = sys.argv[1], sys.argv[2]


def client(who):
    return boto3.client(
        "swf",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=os.environ[f"{who}_KEY"],
        aws_secret_access_key=os.environ[f"{who}_SECRET"],
        config=Config(retries={"max_attempts": 1}),
    )


op, worker, outsider = client("OPERATOR"), client("WORKER"), client("OUTSIDER")

op.register_domain(name="orders", workflowExecutionRetentionPeriodInDays="1")
for name in ("hb", "forbidden"):
    op.register_activity_type(
        domain="orders", name=name, version="1", defaultTaskList={"name": "workers"},
        defaultTaskHeartbeatTimeout="600", defaultTaskStartToCloseTimeout="600",
        defaultTaskScheduleToStartTimeout="600", defaultTaskScheduleToCloseTimeout="900",
    )
op.register_workflow_type(
    domain="orders", name="wf", version="1", defaultTaskList={"name": "deciders"},
    defaultExecutionStartToCloseTimeout="3600", defaultTaskStartToCloseTimeout="60",
    defaultChildPolicy="TERMINATE",
)
run = op.start_workflow_execution(domain="orders", workflowId="b1", workflowType={"name": "wf", "version": "1"})["runId"]
task = op.poll_for_decision_task(domain="orders", taskList={"name": "deciders"})
assert task["taskToken"], task


def schedule(activity_id, name):
    return {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": {
            "activityId": activity_id, "activityType": {"name": name, "version": "1"}, "taskList": {"name": "workers"},
        },
    }


op.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[schedule("a1", "hb"), schedule("a2", "forbidden")])
activity = worker.poll_for_activity_task(domain="orders", taskList={"name": "workers"})
assert activity["activityId"] == "a1", activity
beat = worker.record_activity_task_heartbeat(taskToken=activity["taskToken"], details="42%")
assert beat["cancelRequested"] is False, beat

try:
    outsider.record_activity_task_heartbeat(taskToken=activity["taskToken"])
    raise SystemExit("the outsider's heartbeat was allowed")
except outsider.exceptions.OperationNotPermittedFault as e:
    message = e.response["Error"]["Message"]
    assert "is not authorized to perform: swf:RecordActivityTaskHeartbeat" in message, message

events = op.get_workflow_execution_history(domain="orders", execution={"workflowId": "b1", "runId": run})["events"]
scheduled = [e["activityTaskScheduledEventAttributes"]["activityId"] for e in events if e["eventType"] == "ActivityTaskScheduled"]
assert scheduled == ["a1"], scheduled
if mode == "serve":
    failed = [e for e in events if e["eventType"] == "ScheduleActivityTaskFailed"]
    assert len(failed) == 1 and failed[0]["scheduleActivityTaskFailedEventAttributes"]["cause"] == "OPERATION_NOT_PERMITTED", failed

try:
    worker.record_activity_task_heartbeat(taskToken="not-a-token-" + "x" * 20)
    raise SystemExit("an unknown token was accepted")
except worker.exceptions.ClientError as e:
    code = e.response["Error"]["Code"]
    expected = "ValidationException" if mode == "serve" else "OperationNotPermittedFault"
    assert code == expected, code

print("boto3 flow: ok")
