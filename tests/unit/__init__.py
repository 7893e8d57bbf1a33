"""The fast tier: pure functions and small in-process uses of each module, one test file per
module of knowrepo (test_frontmatter.py for pipeline/frontmatter.py, ...). No subprocess, no
kernel, no browser: `make unit` (or `pytest tests/unit`) runs it in seconds, for the edit loop."""
