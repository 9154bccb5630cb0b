"""Judging claims from stored trials: across-seed means and intervals (`across_seeds`), a verdict per claim
(`verdicts`), and seeds until decided (`sequential`). Beside the engines, not above them: it never trains.
May import `config`, `runtime`, `data` and `store`.
"""
