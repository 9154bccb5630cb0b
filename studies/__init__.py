"""studybench: comparative studies of neural-network training techniques on Keras 3.

Layers, each in its own module: config (typed settings) -> plan (config to trials) -> engines (training)
-> store (Parquet trial store) -> stats and verdicts -> report and index. One module per study declares
what the article claims and shows; `conf/study/<study>.yaml` declares its arms.
"""
