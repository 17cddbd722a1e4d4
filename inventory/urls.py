from django.urls import path  # noqa: F401 (the discovery and search pages add their paths here)

app_name = "inventory"
urlpatterns = [
]
