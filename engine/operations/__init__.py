"""Approval operations (DingTalk-style): one module per family, each command one audited transaction.

Public names are re-exported from `engine/__init__.py`; import the modules directly inside the engine
(`engine.tasks` imports `engine.operations.voting`, so this package file stays import-free).
"""
