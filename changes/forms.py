"""The small forms on a change's page: a comment, a review's reason (bounded as the services are)."""
from __future__ import annotations

from django import forms

from .services import COMMENT_MAX, REASON_MAX, check_text_limit


def _bounded(value: str, *, limit: int, what: str) -> str:
    try:
        check_text_limit(value, limit=limit, what=what)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from None
    return value


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", error_messages={"required": "A comment cannot be empty."},
                           widget=forms.Textarea(attrs={"maxlength": COMMENT_MAX}))

    def clean_body(self):
        return _bounded(self.cleaned_data["body"], limit=COMMENT_MAX, what="A comment")


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, widget=forms.TextInput(attrs={"maxlength": REASON_MAX}))

    def clean_reason(self):
        return _bounded(self.cleaned_data["reason"], limit=REASON_MAX, what="A reason")
