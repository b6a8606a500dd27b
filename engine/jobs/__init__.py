"""Durable jobs: enqueue inside a command's transaction; workers run them after commit."""
