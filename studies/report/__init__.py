"""What a reader opens: a study's figures, tables and claim register (`study_report`, `register`, `evidence`),
pages as data rendered to Markdown and HTML (`document`), the index (`index`, `index_html`, `screenshot`),
TensorBoard event files (`tensorboard`) and the engine agreement page (`engine_agreement`). Reads the store
and the statistics, never trains. May import every layer below `run`.
"""
