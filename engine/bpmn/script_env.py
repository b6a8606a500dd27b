"""Placeholder restricted environment (replaced by the full sandbox on merge)."""
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine


def make_script_engine(timeout_seconds: float = 1.0) -> PythonScriptEngine:
    return PythonScriptEngine()
