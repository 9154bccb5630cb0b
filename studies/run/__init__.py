"""Running studies: the `studybench` command line (`cli`), `make reproduce` in one process (`reproduce`), a
study's plan of trials (`plan`), the config read once into a typed run (`boundary`), the harness that trains,
stores and reports it (`harness`), sweeps and their report (`sweeps`, `sweep_report`), dispatch to clusters
(`cluster`), and what a run tells the terminal (`logs`, `progress`, `terminal`). May import every layer below
it; only `beyond` imports it.
"""
