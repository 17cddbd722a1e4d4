"""Which CloudFormation stack owns a discovered object.

Tags cannot tell (stacks before about August 2025 put none on rules, and schedules cannot be
tagged), so CloudFormation itself is asked: ListStacks (every stack not deleted) and
ListStackResources per stack, keeping the resources of a kind's `cloudformation_type`. The kind's
`stack_key` turns a resource's PhysicalResourceId into the object's (container, name).
DescribeStackResources(PhysicalResourceId=...) would ask per object, and moto 5.2 does not answer
it (docs/aws-behaviours.md, "Discovery").
"""
from __future__ import annotations

from dataclasses import dataclass

import botocore.session
from botocore.exceptions import ClientError

from environments import aws

SERVICE = "cloudformation"
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
# Every stack status but DELETE_COMPLETE (ListStacks lists deleted stacks for 90 days otherwise).
ACTIVE = tuple(status for status in botocore.session.get_session().get_service_model(SERVICE)
               .shape_for("StackStatus").enum if status != "DELETE_COMPLETE")


@dataclass(frozen=True)
class StackResource:
    resource_type: str  # "AWS::Events::Rule"
    physical_id: str
    stack_name: str
    stack_id: str
    logical_id: str

    def origin(self) -> dict[str, str]:
        return {"name": self.stack_name, "id": self.stack_id, "logical_id": self.logical_id}


class OwnershipUnknown(Exception):
    """CloudFormation could not be read with these credentials (said on the run; discovery goes on)."""


def stack_resources(environment, types: set[str]) -> list[StackResource]:
    """The resources of `types` that the environment's live stacks hold (raises OwnershipUnknown when
    CloudFormation refuses these credentials)."""
    if not types:
        return []
    client = aws.client(environment, SERVICE)
    try:
        stacks, token = [], None
        while True:
            page = client.list_stacks(StackStatusFilter=list(ACTIVE), **({"NextToken": token} if token else {}))
            stacks += page.get("StackSummaries", [])
            token = page.get("NextToken")
            if not token:
                break
        found = []
        for stack in stacks:
            token = None
            while True:
                try:
                    page = client.list_stack_resources(StackName=stack["StackId"],
                                                       **({"NextToken": token} if token else {}))
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") == "ValidationError":  # deleted meanwhile
                        break
                    raise
                found += [StackResource(r["ResourceType"], r["PhysicalResourceId"], stack["StackName"],
                                        stack["StackId"], r.get("LogicalResourceId", ""))
                          for r in page.get("StackResourceSummaries", [])
                          if r.get("ResourceType") in types and r.get("PhysicalResourceId")
                          and r.get("ResourceStatus") != "DELETE_COMPLETE"]
                token = page.get("NextToken")
                if not token:
                    break
        return found
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in DENIED:
            raise OwnershipUnknown(aws.describe_error(exc)) from exc
        raise
