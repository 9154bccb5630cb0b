"""How a run runs and what it ran on: the backend's quiet start and determinism (`backend`), the seeds that make
trial s reproducible and paired across arms (`seeding`), where wall time goes (`phases`), versions, device and
commit (`provenance`), and every use of Keras's private API (`keras_internals`). May import `config` only.
"""
