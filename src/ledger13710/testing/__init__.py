"""Harnesses for tests and the demo: a local federation, SMSC/HTTP stand-ins, a synthetic
province."""
