"""Notifications: the developer's portal inbox, e-mail over SMTP, and the demo's capture server."""
