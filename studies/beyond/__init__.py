"""Beyond reproduction (issue #29): does an article's claim survive an equal tuning budget for every arm
(`beyond=tuning`), settings the article did not use (`beyond=heldout`), and which randomness drives it? Each
part is one command, `studybench study=X beyond=PART`, stored in the same trial store as the plain study (a
rerun resumes) and written as a page under reports/beyond/<study>/. `variance` splits each claim metric's
variance between the trial's named randomness sources (initial weights, batch order, dropout masks, the data
draw) by a factorial design over their seeds, and says whether a claim's verdict holds when only one source
varies; `time_to_target` gives, per arm, the epochs its runs take to reach a stated accuracy or loss, a run that
never reaches it counted as never. The top layer: may import every other, the run layer's harness and plan
included.
"""
