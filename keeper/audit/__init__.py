"""Auditor tools: snapshot, history, invariants and the HTML report."""
