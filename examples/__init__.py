"""Worked examples of extending studybench from outside the `studies` package (examples/README.md)."""
