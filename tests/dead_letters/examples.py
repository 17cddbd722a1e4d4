"""Dead-letter messages as AWS writes them, fixed by hand from the AWS documentation's examples (the
EventBridge user guide, "Using dead-letter queues to process undelivered events", and the EventBridge
Scheduler user guide, "Configuring a schedule's dead-letter queue"). moto never writes dead-letter
messages, so the tests send these to a real (moto) SQS queue: every attribute a String, as AWS sends it."""

ACCOUNT = "123456789012"


def string(value: str) -> dict:
    return {"DataType": "String", "StringValue": value}


# A rule's target: the Lambda function's policy does not let EventBridge invoke it.
RULE_EVENT = ('{"version":"0","id":"11c5dfc8-3ba1-4f8f-8b6d-8f0bd1d0c3d2","detail-type":"Object Created",'
              '"source":"aws.s3","account":"123456789012","time":"2026-11-29T23:01:12Z","region":"us-east-1",'
              '"resources":["arn:aws:s3:::orders-bucket"],"detail":{"bucket":{"name":"orders-bucket"},'
              '"object":{"key":"incoming/order-1.json","size":512}}}')
RULE_ATTRIBUTES = {
    "RULE_ARN": string(f"arn:aws:events:us-east-1:{ACCOUNT}:rule/orders-bus/orders-to-lambda"),
    "TARGET_ARN": string(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:Do_nothing"),
    "ERROR_CODE": string("NO_PERMISSIONS"),
    "ERROR_MESSAGE": string("User: arn:aws:sts::123456789012:assumed-role/Amazon_EventBridge_Invoke_Lambda/"
                            "a1b2 is not authorized to perform: lambda:InvokeFunction"),
    "EXHAUSTED_RETRY_CONDITION": string("MaximumEventAgeInSeconds"),
    "RETRY_ATTEMPTS": string("185"),
}

# A schedule whose SQS target queue no longer exists (the Scheduler guide's example codes).
SCHEDULE_PAYLOAD = '{"action":"start","instance":"i-0123456789abcdef0"}'
SCHEDULE_ATTRIBUTES = {
    "ERROR_CODE": string("AWS.SimpleQueueService.NonExistentQueue"),
    "ERROR_MESSAGE": string("The specified queue does not exist."),
    "EXECUTION_ID": string("ad06cc1f-3ba1-4f0c-a2c3-c5a5f4c8d6f1"),
    "EXHAUSTED_RETRY_CONDITION": string("MaximumRetryAttempts"),
    "IS_PAYLOAD_TRUNCATED": string("false"),
    "RETRY_ATTEMPTS": string("3"),
    "SCHEDULED_TIME": string("2026-11-29T23:00:00Z"),
    "SCHEDULE_ARN": string(f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/Start_batch_server_11PM"),
    "TARGET_ARN": string("arn:aws:scheduler:::aws-sdk:sqs:sendMessage"),
}

# What a person might find in a queue that EventBridge did not write, or wrote oddly.
MALFORMED_ATTRIBUTES = {
    "ERROR_CODE": string("SOMETHING_NEW"),
    "RETRY_ATTEMPTS": string("many"),
    "RULE_ARN": string("not-an-arn"),
    "X_CUSTOM": string("hello"),
    "RAW": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
}
NOT_JSON_BODY = "this is <b>not</b> JSON {"
