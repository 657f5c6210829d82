"""Workflows for simpleflow (PyPI `simpleflow`), one per SWF feature its examples show:
basic, timer, marker, signals, failing, canvas, continue_as_new and child_workflow.
Written for swf-iam's tests (tests/it/simpleflow.rs runs each with `simpleflow
standalone` against `swf-iam serve`); each returns a result the test checks."""

from simpleflow import Workflow, activity, futures
from simpleflow.canvas import Chain, Group
from simpleflow.task import ActivityTask

ACTIVITIES = dict(task_list="quickstart", version="example")


@activity.with_attributes(**ACTIVITIES)
def increment(x):
    return x + 1


@activity.with_attributes(**ACTIVITIES)
def double(x):
    return x * 2


@activity.with_attributes(raises_on_failure=True, **ACTIVITIES)
def fail_on_purpose(x):
    raise ValueError(f"activity fails on purpose with {x}")


class Flow(Workflow):
    version = "example"
    task_list = "example"


class Basic(Flow):
    """Two activities, the second on the first's result: (x + 1) * 2."""

    name = "sf-basic"

    def run(self, x):
        y = self.submit(increment, x)
        z = self.submit(double, y)
        futures.wait(z)
        return z.result


class Timer(Flow):
    """A one-second timer, then an activity."""

    name = "sf-timer"

    def run(self, x):
        t = self.submit(self.start_timer("pause", 1))
        futures.wait(t)
        y = self.submit(increment, x)
        futures.wait(y)
        return y.result


class Marker(Flow):
    """Two markers recorded, then read back from the history."""

    name = "sf-marker"

    def run(self):
        m = self.submit(self.record_marker("checkpoint", {"step": 1}))
        n = self.submit(self.record_marker("checkpoint", {"step": 2}))
        futures.wait(m, n)
        return sorted(str(mk.details) for mk in self.list_markers(all=True))


class Signals(Flow):
    """The workflow signals itself and waits for the signal."""

    name = "sf-signals"

    def run(self):
        waiting = self.submit(self.wait_signal("go"))
        sent = self.submit(self.signal("go", propagate=False, value=42))
        futures.wait(sent, waiting)
        return "signaled"


class Failing(Flow):
    """An activity that raises: the workflow ends FAILED."""

    name = "sf-failing"

    def run(self, x):
        y = self.submit(fail_on_purpose, x)
        futures.wait(y)
        return y.result


class Canvas(Flow):
    """A group of activities in parallel, then a chain passing results along."""

    name = "sf-canvas"

    def run(self, x):
        g = self.submit(Group(ActivityTask(increment, x), ActivityTask(double, x)))
        futures.wait(g)
        c = self.submit(
            Chain(ActivityTask(increment, x), ActivityTask(double), send_result=True)
        )
        futures.wait(c)
        return [g.result, c.result]


class ContinueAsNew(Flow):
    """Continues as new until it has run three times."""

    name = "sf-continue-as-new"

    def run(self, n=0):
        if n < 2:
            # The run ends with the ContinueAsNewWorkflowExecution decision.
            futures.wait(self.submit(self.continue_as_new(n=n + 1)))
        return n


class Child(Flow):
    """A child: x + 1."""

    name = "sf-child"

    def run(self, x):
        y = self.submit(increment, x)
        futures.wait(y)
        return y.result


class ChildWorkflow(Flow):
    """Starts a child workflow and doubles its result."""

    name = "sf-child-workflow"

    def run(self, x):
        c = self.submit(Child, x)
        futures.wait(c)
        d = self.submit(double, c.result)
        futures.wait(d)
        return d.result
