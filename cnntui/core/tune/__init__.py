"""Hyperparameter search with Optuna: every trial is an ordinary cnntui run.

Optuna owns the trials, their storage (an SQLite file beside the runs by default, or any
RDB URL such as PostgreSQL so that workers on several machines share one study) and the
pruning; cnntui turns a trial into a ``TrainConfig`` and a run directory. Optuna is
imported only when a study is opened.
"""
