"""Clinical knowledge and time windows, in plain Python.

Nothing here imports Django or touches a database: a service gathers the facts, asks a rule, and records the
answer. Values that clinicians review live in ``data/*.toml`` with their source and confidence beside them.
"""
