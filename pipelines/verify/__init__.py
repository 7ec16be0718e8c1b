"""Verification: the verifier registry and the math, code, rule and judge verifiers.

Importing this package is cheap; verifiers register on first lookup
(:func:`get_verifier`), and math-verify is imported only when used.
"""

from tracemill.pipelines.verify.batch import NO_VERIFIER, verifier_pool, verify_one, verify_table
from tracemill.pipelines.verify.judge import JudgeClient, configure_judge
from tracemill.pipelines.verify.registry import (
    REASONS,
    RegisteredVerifier,
    Verdict,
    get_verifier,
    register_verifier,
    run_verifier,
    verifier_names,
)
from tracemill.pipelines.verify.sandbox import SandboxConfig, SandboxUnavailable

__all__ = [
    "NO_VERIFIER",
    "REASONS",
    "JudgeClient",
    "RegisteredVerifier",
    "SandboxConfig",
    "SandboxUnavailable",
    "Verdict",
    "configure_judge",
    "get_verifier",
    "register_verifier",
    "run_verifier",
    "verifier_names",
    "verifier_pool",
    "verify_one",
    "verify_table",
]
