"""Beyond reproduction (issue #29): questions a study's own run does not answer, asked of the same trials and
store. `variance` splits each claim metric's variance between the trial's named randomness sources (initial
weights, batch order, dropout masks, the data draw) by a factorial design over their seeds, and says whether a
claim's verdict holds when only one source varies; `time_to_target` gives, per arm, the epochs its runs take to
reach a stated accuracy or loss, a run that never reaches it counted as never. Each module has an entry function
that returns pandas tables for the report layer to write (nothing here writes files) and a `python -m` entry
that prints them.
"""
