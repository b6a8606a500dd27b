"""Notification centre: in-app rows (always) plus HTTP channel messages delivered as `notify` jobs."""
