"""The places EventConsole manages: one AWS account and Region each, with an approval policy."""
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from .validators import validate_region, validate_role_arn


class Environment(models.Model):
    name = models.CharField(
        verbose_name="name", max_length=64, unique=True,
        help_text="A short name people recognise, e.g. Sandbox or Production.",
    )
    account_id = models.CharField(
        verbose_name="AWS account ID", max_length=12, blank=True,
        validators=[RegexValidator(r"^\d{12}$", "An AWS account ID is exactly 12 digits.")],
        help_text="Expected account. Test connection warns when the credentials reach another one.",
    )
    region = models.CharField(
        verbose_name="Region", max_length=32, validators=[validate_region],
        help_text="AWS Region code, e.g. us-east-1.",
    )
    endpoint_url = models.URLField(
        verbose_name="endpoint URL", blank=True,
        help_text="Leave empty for real AWS. Set to the local emulator (e.g. http://127.0.0.1:4566) otherwise.",
    )
    role_arn = models.CharField(
        verbose_name="role to assume", max_length=2048, blank=True, validators=[validate_role_arn],
        help_text="Optional IAM role ARN assumed (STS AssumeRole) for every call in this environment.",
    )
    is_production = models.BooleanField(verbose_name="production", default=False)
    approvals_required = models.PositiveSmallIntegerField(
        verbose_name="approvals required", default=0, validators=[MaxValueValidator(5)],
        help_text="Reviewers (never the author) who must approve a change before it is applied.",
    )
    pattern_size_max = models.PositiveIntegerField(
        verbose_name="event pattern size quota", default=2048,
        validators=[MinValueValidator(2048), MaxValueValidator(4096)],
        help_text="EventBridge's \"Event pattern size\" quota for this account and Region, in characters: 2,048 "
                  "unless AWS raised it on request (up to 4,096). Rules' patterns are checked against it.",
    )
    api_rate_limit = models.PositiveSmallIntegerField(
        verbose_name="AWS calls per second", default=20, validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="At most this many calls a second to each AWS service in this account and Region, shared by every "
                  "worker and web process (environments.ratelimit). The default stays below EventBridge's and "
                  "Scheduler's published control-plane quotas (50 requests a second).",
    )
    tailing_allowed = models.BooleanField(
        verbose_name="live tail allowed", default=True,
        help_text="Operators may open a live tail of a bus here (\"Listen to events\"): EventConsole then creates a "
                  "temporary rule and SQS queue in this account, removed when the tail closes.",
    )
    description = models.CharField(verbose_name="description", max_length=512, blank=True)
    created = models.DateTimeField(verbose_name="created", auto_now_add=True)
    last_updated = models.DateTimeField(verbose_name="last updated", auto_now=True)

    class Meta:
        ordering = ("name",)
        verbose_name = "environment"
        permissions = [("test_connection", "Can test an environment's AWS connection")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("environments:environment_detail", args=[self.pk])

    @property
    def is_emulated(self) -> bool:
        """True when calls go to a local emulator rather than real AWS."""
        return bool(self.endpoint_url)
