"""Security building blocks (等保三级 baseline, DESIGN.md §7).

Every module here is pure: no database, no web framework, no reads of the process environment.
Callers pass settings, clocks and stores in.
"""
