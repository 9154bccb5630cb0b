"""What a run and a study declare, before anything runs: the typed, validated settings of a trial (`settings`)
and of a run (`run_settings`), components named by import path (`components`), the claim language a study
module writes its claims in (`contract`, with the curve `features` a claim may read, and `tuning`, what
`beyond=tuning` may tune), and where configs are found (`paths`, `studypath`). The bottom layer: it imports
nothing else of studybench, and nothing here imports Keras or a backend, so a bad value is refused before the
backend's slow import.
"""
