"""swf-iam's pytest plugin used as a user would: the `swf_iam` fixture, installed with
`pip install .` into a fresh virtual environment (scripts/test does it)."""

import os
import subprocess
import sys
import time

import pytest

ADMIN = "arn:aws:iam::123456789012:role/admin"
WORKER = "arn:aws:iam::123456789012:role/worker"
BILLING = "arn:aws:iam::123456789012:role/billing"


def schedule_activity(admin, workflow_id):
    """Starts workflow `wf` and schedules activity `hb` (task list `workers`)."""
    run = admin.start_workflow_execution(
        domain="orders", workflowId=workflow_id, workflowType={"name": "wf", "version": "1"}
    )
    task = admin.poll_for_decision_task(domain="orders", taskList={"name": "deciders"})
    admin.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[{
            "decisionType": "ScheduleActivityTask",
            "scheduleActivityTaskDecisionAttributes": {
                "activityId": "a1", "activityType": {"name": "hb", "version": "1"}},
        }],
    )
    return run["runId"]


def test_heartbeat_allowed_and_denied_with_the_reason(swf_iam):
    admin = swf_iam.client("swf", principal=ADMIN)
    schedule_activity(admin, "hb-flow")
    worker = swf_iam.client("swf", principal=WORKER)
    task = worker.poll_for_activity_task(domain="orders", taskList={"name": "workers"})
    assert worker.record_activity_task_heartbeat(taskToken=task["taskToken"])["cancelRequested"] is False
    billing = swf_iam.client("swf", principal=BILLING)
    with pytest.raises(billing.exceptions.OperationNotPermittedFault) as denied:
        billing.record_activity_task_heartbeat(taskToken=task["taskToken"])
    assert "is not authorized to perform: swf:RecordActivityTaskHeartbeat" in str(denied.value)
    last = swf_iam.decisions()[-1]
    assert last["principal"] == "arn:aws:sts::123456789012:assumed-role/billing/swf-iam"
    assert last["action"] == "swf:RecordActivityTaskHeartbeat"
    assert last["decision"] == "implicitDeny"
    assert "because no identity-based policy allows" in last["reason"]
    allowed = [d for d in swf_iam.decisions() if d["decision"] == "allowed" and d["principal"].endswith("/worker/swf-iam")]
    assert [d["operation"] for d in allowed] == ["PollForActivityTask", "RecordActivityTaskHeartbeat"]


def test_reset_isolates_tests(swf_iam):
    admin = swf_iam.client("swf", principal=ADMIN)
    # The previous test's execution is gone; what the configuration registers is back.
    assert admin.count_open_workflow_executions(
        domain="orders", startTimeFilter={"oldestDate": 0}
    )["count"] == 0
    types = admin.list_activity_types(domain="orders", registrationStatus="REGISTERED")["typeInfos"]
    assert [t["activityType"]["name"] for t in types] == ["hb"]
    assert swf_iam.decisions()[0]["operation"] == "CountOpenWorkflowExecutions"


def test_a_heartbeat_timeout_fires_when_the_clock_moves(swf_iam):
    wall = time.monotonic()
    admin = swf_iam.client("swf", principal=ADMIN)
    run = schedule_activity(admin, "timeout-flow")
    worker = swf_iam.client("swf", principal=WORKER)
    task = worker.poll_for_activity_task(domain="orders", taskList={"name": "workers"})
    before = swf_iam.clock.now()
    assert swf_iam.clock.advance(31) == before + 31
    with pytest.raises(worker.exceptions.UnknownResourceFault):
        worker.record_activity_task_heartbeat(taskToken=task["taskToken"])
    events = admin.get_workflow_execution_history(
        domain="orders", execution={"workflowId": "timeout-flow", "runId": run}
    )["events"]
    timed_out = [e for e in events if e["eventType"] == "ActivityTaskTimedOut"]
    assert timed_out[0]["activityTaskTimedOutEventAttributes"]["timeoutType"] == "HEARTBEAT"
    print(f"heartbeat timeout test: {time.monotonic() - wall:.3f} s of wall time")


def test_a_timer_fires_when_the_clock_moves(swf_iam):
    admin = swf_iam.client("swf", principal=ADMIN)
    admin.start_workflow_execution(
        domain="orders", workflowId="timer-flow", workflowType={"name": "wf", "version": "1"}
    )
    task = admin.poll_for_decision_task(domain="orders", taskList={"name": "deciders"})
    admin.respond_decision_task_completed(
        taskToken=task["taskToken"],
        decisions=[{"decisionType": "StartTimer",
                    "startTimerDecisionAttributes": {"timerId": "t", "startToFireTimeout": "7200"}}],
    )
    swf_iam.clock.advance(7200)
    task = admin.poll_for_decision_task(domain="orders", taskList={"name": "deciders"})
    assert "TimerFired" in [e["eventType"] for e in task["events"]]


def test_simpleflow_runs_through_env(swf_iam, tmp_path):
    simpleflow = os.path.join(os.path.dirname(sys.executable), "simpleflow")
    if not os.path.exists(simpleflow):
        pytest.fail("simpleflow is not installed in this environment (scripts/test installs it)")
    flows = tmp_path / "flows.py"
    flows.write_text(
        "from simpleflow import Workflow, activity, futures\n"
        "@activity.with_attributes(task_list='quickstart', version='example')\n"
        "def double(x):\n    return x * 2\n"
        "class Double(Workflow):\n    name = 'py-double'\n    version = 'example'\n    task_list = 'example'\n"
        "    def run(self, x):\n        y = self.submit(double, x)\n        futures.wait(y)\n        return y.result\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(swf_iam.env(principal=ADMIN))
    env["PYTHONPATH"] = str(tmp_path)
    out = subprocess.run(
        [simpleflow, "standalone", "--domain", "orders", "--workflow-id", "py-sf",
         "--input", '{"args": [21]}', "flows.Double"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    admin = swf_iam.client("swf", principal=ADMIN)
    closed = admin.list_closed_workflow_executions(
        domain="orders", startTimeFilter={"oldestDate": 0}
    )["executionInfos"]
    assert [c["closeStatus"] for c in closed] == ["COMPLETED"]


def test_the_server_starts_quickly(swf_iam_server):
    # Reported by scripts/test; the bound is generous (a loaded CI machine).
    print(f"swf-iam serve started in {swf_iam_server.started_in:.3f} s")
    assert swf_iam_server.started_in < 10


pytest_plugins = ["pytester"]


def test_a_bad_configuration_ends_the_session_with_swf_iams_message(pytester):
    pytester.makefile(".json", bad='{"principals": [{"arn": "worker"}]}')
    pytester.makepyfile("def test_x(swf_iam):\n    pass\n")
    result = pytester.runpytest_subprocess("--swf-iam-config", "bad.json")
    assert result.ret == 4
    text = result.stdout.str() + result.stderr.str()
    assert "swf-iam serve refused to start" in text and "`worker` is not a principal ARN" in text, text
    missing = pytester.runpytest_subprocess("--swf-iam-config", "nowhere.json")
    assert missing.ret == 4
    text = missing.stdout.str() + missing.stderr.str()
    assert "nowhere.json` does not exist" in text, text


def test_a_role_session_from_the_sts_client(swf_iam):
    import boto3

    admin = swf_iam.client("swf", principal=ADMIN)
    schedule_activity(admin, "session-flow")
    sts = swf_iam.client("sts", principal=ADMIN)
    creds = sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/session-worker", RoleSessionName="py"
    )["Credentials"]
    session = boto3.client(
        "swf",
        endpoint_url=swf_iam.endpoint,
        region_name=swf_iam.region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    task = session.poll_for_activity_task(domain="orders", taskList={"name": "workers"})
    session.record_activity_task_heartbeat(taskToken=task["taskToken"])
    beat = [d for d in swf_iam.decisions() if d.get("operation") == "RecordActivityTaskHeartbeat"]
    assert beat[-1]["principal"] == "arn:aws:sts::123456789012:assumed-role/session-worker/py"
    assert beat[-1]["decision"] == "allowed"
    # The worker role is not trusted to assume it.
    worker_sts = swf_iam.client("sts", principal=WORKER)
    with pytest.raises(worker_sts.exceptions.ClientError) as denied:
        worker_sts.assume_role(
            RoleArn="arn:aws:iam::123456789012:role/session-worker", RoleSessionName="py"
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
