"""Clicking through the create-rule flow for worked example 1 (shared by the browser tests)."""
from playwright.sync_api import expect

NAME = "process-s3-objects-with-lambda"


def create_worked_example_rule(page, environment_name: str) -> None:
    page.get_by_role("link", name="Rules").click()
    page.get_by_label("Environment for the new rule").select_option(label=environment_name)
    page.get_by_role("button", name="Create rule").click()

    # Step 1: Define rule detail
    expect(page.get_by_role("heading", name="Define rule detail")).to_be_visible()
    page.get_by_role("textbox", name="Name").fill(NAME)
    expect(page.get_by_role("combobox", name="Event bus")).to_have_value("default")
    expect(page.get_by_label("Enable the rule on the selected event bus")).to_be_checked()
    page.get_by_role("radio", name="Rule with an event pattern").check()
    page.get_by_role("button", name="Next", exact=True).click()

    # Step 2: Build event pattern, with the pattern form (not the JSON editor)
    expect(page.get_by_role("heading", name="Build event pattern")).to_be_visible()
    page.get_by_role("radio", name="AWS events or EventBridge partner events").check()
    page.get_by_role("combobox", name="Sample events").select_option(label="S3 Object Created")
    expect(page.get_by_role("radio", name="Use pattern form")).to_be_checked()
    page.get_by_role("combobox", name="AWS service").select_option(label="Simple Storage Service (S3)")
    page.get_by_role("combobox", name="Event type").select_option(label="Amazon S3 Event Notification")
    page.get_by_role("radio", name="Specific event(s)").check()
    page.get_by_role("checkbox", name="Object Created", exact=True).check()
    page.get_by_role("radio", name="Specific bucket(s) by name").check()
    page.get_by_role("textbox", name="Specific bucket(s) by name").fill("processing-bucket-1")
    page.get_by_role("textbox", name="Specific bucket(s) by name").blur()
    expect(page.get_by_test_id("pattern-json")).to_contain_text('"processing-bucket-1"')
    page.get_by_role("button", name="Test pattern").click()
    expect(page.get_by_test_id("pattern-test")).to_contain_text("Sample event matched the event pattern")
    page.get_by_role("button", name="Next", exact=True).click()

    # Step 3: Select target(s): Lambda Do_nothing, then "Add another target": SNS Topic1
    expect(page.get_by_role("heading", name="Select target(s)")).to_be_visible()
    first = page.locator(".target-form").nth(0)
    first.get_by_role("combobox", name="Target type").select_option(label="Lambda function")
    first.get_by_role("combobox", name="Target", exact=True).select_option(label="Do_nothing")
    page.get_by_role("button", name="Add another target").click()
    second = page.locator(".target-form").nth(1)
    second.get_by_role("combobox", name="Target type").select_option(label="SNS topic")
    second.get_by_role("combobox", name="Target", exact=True).select_option(label="Topic1")
    page.get_by_role("button", name="Next", exact=True).click()

    # Step 4: Configure tags (none)
    expect(page.get_by_role("heading", name="Configure tags")).to_be_visible()
    page.get_by_role("button", name="Next: review").click()

    # Step 5: Review and create: the plan is exactly PutRule + PutTargets, then what lets the targets
    # receive events: AddPermission on Do_nothing and the Topic1 policy call
    expect(page.get_by_role("heading", name="Review and create")).to_be_visible()
    expect(page.get_by_test_id("review-name")).to_have_text(NAME)
    plan = page.get_by_test_id("plan")
    expect(plan.locator("li > strong")).to_have_text(["PutRule", "PutTargets", "AddPermission", "SetTopicAttributes"])
    expect(plan.locator("li").nth(2)).to_contain_text("Lambda function Do_nothing")
    expect(plan.locator("li").nth(3)).to_contain_text("SNS topic Topic1")
    page.get_by_role("button", name="Create rule").click()
