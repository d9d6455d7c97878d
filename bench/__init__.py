"""Reproducible benchmarks: every measurement against a baseline taken in the same run.

Run from the repository root with ``python -m bench`` (or ``make bench``); see README.md.
Nothing here is part of the test suite and nothing asserts a timing.
"""
