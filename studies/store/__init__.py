"""Where finished trials live: the Parquet trial store (`trial_store`), what an engine hands it
(`trial_result`), files written whole or not at all (`atomic`), leases that keep jobs sharing a store from
training a trial twice (`lease`), and `studybench check` (`check`). May import `config`, `runtime` and `data`.
"""
