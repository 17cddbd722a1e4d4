"""What lets a target receive events: resource-based policies (policies.py) and execution roles (roles.py)."""
