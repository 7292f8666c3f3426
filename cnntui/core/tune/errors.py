"""The one error of the tuning package."""


class TuneError(ValueError):
    """Bad tuning input (space, storage, study): a usage error, exit code 2."""


def require_optuna() -> None:
    """Raise a clear error naming the install command when Optuna is missing."""
    import importlib.util

    if importlib.util.find_spec("optuna") is None:
        raise TuneError(
            "`cnntui tune` needs Optuna: pip install 'cnntui[tune]' "
            "(or 'cnntui[tune-postgres]' to share a study through PostgreSQL)"
        )
