"""EventConsole: a web console for Amazon EventBridge rules and EventBridge Scheduler schedules."""
from .celery import app as celery_app

__all__ = ["celery_app"]
