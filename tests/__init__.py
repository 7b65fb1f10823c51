"""The template's own tests, a package so that the benchmark imports their
helpers (benchmarks/benchmark.py: tests.traffic). The test modules import the
helpers by their bare names (from helpers import ...): pyproject.toml puts
tests/ on pytest's path."""
