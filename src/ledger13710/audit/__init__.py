"""Tamper evidence: checkpoints, keys, trust, and the auditor's verify, replay, proofs, report."""
