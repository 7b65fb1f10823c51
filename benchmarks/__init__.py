"""The benchmark, a package so that `python -m benchmarks.benchmark` runs it
from the repository's root, where it imports the package tests."""
