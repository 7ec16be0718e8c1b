"""Verification: the verifier registry and the math, code, rule and judge verifiers."""

from pipelines.verify.registry import (
    REASONS,
    RegisteredVerifier,
    Verdict,
    get_verifier,
    register_verifier,
    run_verifier,
    verifier_names,
)

__all__ = [
    "REASONS",
    "RegisteredVerifier",
    "Verdict",
    "get_verifier",
    "register_verifier",
    "run_verifier",
    "verifier_names",
]
