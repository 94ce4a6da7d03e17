"""Notifications: outbox-driven email (Jinja2 templates, SMTP delivery) and in-app messages."""
