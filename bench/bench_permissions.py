"""Plan and apply of worked example 1 with its targets' permissions: the AWS API calls EventConsole
makes, by phase, against the fewest a careful hand-written script needs (moto server over HTTP).

Run: python -m bench permissions
"""
import json
from collections import Counter

from setup import django_with_scratch_db

django_with_scratch_db()

from accounts.services import user_create  # noqa: E402
from changes import apply, services  # noqa: E402
from changes.choices import ChangeAction  # noqa: E402
from environments import aws  # noqa: E402
from environments.demo import demo_resources_seed  # noqa: E402
from environments.models import Environment  # noqa: E402
from eventconsole import localaws  # noqa: E402
from rules.models import Rule  # noqa: E402

# The fewest calls for the same result, written by hand: nothing is known beforehand, the rule must
# not overwrite another, the topic's policy must keep others' statements, and a second run must
# change nothing.
FEWEST = {
    "create": ["DescribeRule",  # is the name free?
               "GetPolicy", "GetTopicAttributes",  # does the function / topic already let the rule in? (merge base)
               "PutRule", "PutTargets", "AddPermission", "SetTopicAttributes"],
    "again": ["DescribeRule", "ListTargetsByRule", "ListTagsForResource", "GetPolicy", "GetTopicAttributes"],
}

moto, url = localaws.start_moto()
try:
    environment = Environment.objects.create(name="Sandbox", region="us-east-1", endpoint_url=url,
                                             account_id="123456789012", approvals_required=0)
    demo_resources_seed(environment)
    lam, sns = aws.client(environment, "lambda"), aws.client(environment, "sns")
    function = lam.get_function(FunctionName="Do_nothing")["Configuration"]["FunctionArn"]
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":Topic1"))
    operator = user_create(username="operator", password="bench-password-1", roles=["Operators"])
    spec = {"Rule": {"Name": "process-s3-objects-with-lambda", "EventBusName": "default", "State": "ENABLED",
                     "EventPattern": json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"],
                                                 "detail": {"bucket": {"name": ["processing-bucket-1"]}}})},
            "Targets": [{"Id": "Target1", "Arn": function}, {"Id": "Target2", "Arn": topic}], "Tags": []}

    seen: list[str] = []

    def hook(client, environment, service):
        client.meta.events.register("before-call", lambda model, **kw: seen.append(model.name))

    aws.add_client_hook(hook)
    aws.clear_cache()

    def run(label, spec, action, target=None):
        seen.clear()
        change = services.change_request_draft_create(kind="rule", action=action, environment=environment,
                                                      author=operator, spec=spec, target=target)
        services.change_request_submit(change, actor=operator)
        planned = list(seen)
        seen.clear()
        apply.change_request_apply(change.pk)
        applied = list(seen)
        total = planned + applied
        fewest = FEWEST[label]
        print(f"{label:7} plan {len(planned):2} calls {dict(Counter(planned))}")
        print(f"{'':7} apply {len(applied):2} calls {dict(Counter(applied))}")
        print(f"{'':7} total {len(total):2} (writes {sum(c.startswith(('Put', 'Add', 'Set')) for c in total)}) "
              f"vs fewest {len(fewest)} (writes {sum(c.startswith(('Put', 'Add', 'Set')) for c in fewest)})")
        return change

    first = run("create", spec, ChangeAction.CREATE)
    rule = Rule.objects.get(pk=first.rule_id)
    run("again", rule.desired_spec, ChangeAction.UPDATE, target=rule)
    print("The extra reads are the apply's re-plan against live AWS (a change may wait for approval for days) "
          "and the read-back after apply that records the live state; the writes are the fewest.")
finally:
    moto.terminate()
    moto.wait(10)
