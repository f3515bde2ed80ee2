"""Quality gates: Great Expectations suites from expectations/, run inside DuckDB, as blocking asset checks.

Gate 1 checks each run's landed batches before they are merged into raw; gate 2 checks the published
marts before they are copied to the published file. The README's "Quality gates" section tells the story.
"""
