"""Accounts use Django's User and Group models; roles are groups (see accounts.roles)."""
