"""The article studies' modules, one per `conf/study/<name>.yaml`: each declares the figures, summary columns
and claims of the article section it reproduces (studies/config/contract.py). Kept apart from the harness so that a
study is data: the same declarations may live in a user's own module (README, Your own ... study). Imports `config`
only."""
