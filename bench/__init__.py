"""The benchmark: the whole pipeline at several scales, against the bare engine doing the same work.

`python -m bench --scales 10k,100k,1m` (see bench/run.py and docs/benchmarks.md).
"""
