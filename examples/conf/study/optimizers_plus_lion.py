"""Article 001 §1 plus Lion: the article's figures, summary and claims (studies/catalog/optimizers.py), and two
claims placing Lion among the article's optimizers. The second is the Lion paper's own claim against Adam,
made there for far larger models."""
from studies.catalog.optimizers import CLAIMS as ARTICLE_CLAIMS, FIGURES, NEGLIGIBLE_LOSS, SUMMARY
from studies.config.contract import Claim

# What a study module defines (studies/config/contract.py): the article's FIGURES and SUMMARY are re-exported as
# they are.
__all__ = ["FIGURES", "SUMMARY", "CLAIMS"]

CLAIMS = ARTICLE_CLAIMS + (
    Claim("lion_beats_slow", "Lion converges faster than the article's slow pair, SGD and Adadelta",
          metric="loss", split="train", point="final", relation="<", arms=("lion",), versus=("sgd", "adadelta"),
          tolerance=NEGLIGIBLE_LOSS),
    Claim("lion_beats_adam", "Lion ends below Adam in train loss (the Lion paper's claim)",
          metric="loss", split="train", point="final", relation="<", arms=("lion",), versus=("adam",),
          tolerance=NEGLIGIBLE_LOSS),
)
