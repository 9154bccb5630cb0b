"""Beyond reproduction (issue #29): does an article's claim survive an equal tuning budget for every arm
(`beyond=tuning`), settings the article did not use (`beyond=heldout`), and which randomness drives it? Each
part is one command, `studybench study=X beyond=PART`, stored in the same trial store as the plain study (a
rerun resumes) and written as a page under reports/beyond/<study>/.
"""
