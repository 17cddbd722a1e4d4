"""Small pieces of English shared by the pages' messages."""
from __future__ import annotations

__all__ = ["with_article"]

# Letters whose names start with a vowel sound: an acronym is read by its letters ("an SQS queue").
_VOWEL_NAMED_LETTERS = "AEFHILMNORSX"


def with_article(label: str) -> str:
    """The label with "a" or "an" as it is read aloud: "a Lambda function", "an SNS topic", "an ECS
    cluster", "a Step Functions state machine"."""
    word = label.split(" ", 1)[0]
    vowel_sound = word[:1] in (_VOWEL_NAMED_LETTERS if word.isupper() else "AEIOUaeiou")
    return f"{'an' if vowel_sound else 'a'} {label}"
