"""The data a trial sees: datasets found offline first and checksummed (`datasets`), and the split of one
dataset into what a trial trains, validates and tests on (`splits`). May import `config` and `runtime`.
"""
