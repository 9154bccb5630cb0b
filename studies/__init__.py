"""studybench: comparative studies of neural-network training techniques on Keras 3.

A run flows config -> plan -> engines -> store -> stats -> report. The package's folders are its layers, each
importing only from the layers below it (import-linter checks this in `make test`; `.importlinter`):

    beyond    the questions after reproduction: equal tuning, held-out settings, variance, time to a target
    run       the command line, the plan of a study's trials, the harness that trains and stores them, sweeps
    report    a study's figures and tables, the index page, the engine agreement page
    engines | stats   training trials (engines) and judging claims from stored trials (stats), side by side
    store     the Parquet trial store, its leases and atomic writes, what an engine hands it (TrialResult)
    data      datasets and the splits one trial trains, validates and tests on
    runtime   how a run runs and what it ran on: backend set-up, seeds, timing, provenance, Keras internals
    config    what a run and a study declare: typed settings, components, the claim language, config paths

`catalog/` holds one module per article study (claims and figures as data; it imports only `config`).
"""
