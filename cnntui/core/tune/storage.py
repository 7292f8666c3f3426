"""Where studies live: an SQLite file beside the runs, or any SQLAlchemy database URL.

Workers on one machine share the SQLite file; workers on several machines share a
PostgreSQL (or MySQL) database by passing the same ``--storage`` URL. Asking for a new
trial is done under a lock (a file lock for SQLite, an advisory lock for PostgreSQL,
``GET_LOCK`` for MySQL), so that the study never runs more trials than asked for.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from cnntui.core.runs import runs_root
from cnntui.core.tune.errors import TuneError, require_optuna

DB_NAME = "tune.sqlite3"
HEARTBEAT_ENV = "CNNTUI_TUNE_HEARTBEAT"  # seconds between a running trial's heartbeats


def heartbeat_seconds() -> int:
    """Heartbeat interval (``$CNNTUI_TUNE_HEARTBEAT``, default 5 s); stale after 4 missed."""
    try:
        return max(1, int(os.environ.get(HEARTBEAT_ENV, "5")))
    except ValueError:
        return 5


def default_url(runs_dir: str | None = None) -> str:
    """``sqlite:///<runs root>/tune.sqlite3``."""
    root = runs_root(runs_dir)
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(root / DB_NAME).resolve()}"


def sqlite_missing(url: str) -> bool:
    """An SQLite URL whose file does not exist (reading it must not create it)."""
    if not url.startswith("sqlite:///"):
        return False
    return not Path(url.split("sqlite:///", 1)[1]).exists()


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a message helper never fails
        return url


def open_storage(url: str):
    """An Optuna RDB storage with heartbeats (a killed worker's trial is retried)."""
    require_optuna()
    import warnings

    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")

    kwargs = {}
    if url.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    else:
        kwargs["engine_kwargs"] = {"pool_pre_ping": True, "connect_args": _connect_timeout(url)}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with trial_lock(url, "cnntui-schema"):  # workers starting together create tables once
            return RDBStorage(
                url,
                heartbeat_interval=heartbeat_seconds(),
                grace_period=4 * heartbeat_seconds(),
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=2),
                **kwargs,
            )
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy/driver errors become one line
        detail = " ".join(str(exc).split())[:300]
        raise TuneError(
            f"cannot open the study storage {describe(url)}: {detail}. Check the URL, that "
            "the database server is running and reachable, and that its driver is installed "
            "(PostgreSQL: pip install 'cnntui[tune-postgres]')"
        ) from None


def _connect_timeout(url: str) -> dict:
    if url.startswith("postgresql"):
        return {"connect_timeout": 10}
    if url.startswith("mysql"):
        return {"connect_timeout": 10}
    return {}


@contextlib.contextmanager
def trial_lock(url: str, study_name: str) -> Iterator[None]:
    """Hold the study's "new trial" lock across workers (and machines, for PostgreSQL)."""
    key = int(hashlib.sha1(study_name.encode()).hexdigest()[:15], 16)
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[-1] + ".lock")
        with open(path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    if url.startswith(("postgresql", "mysql")):
        import sqlalchemy as sa

        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                if url.startswith("postgresql"):
                    conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
                    unlock = sa.text("SELECT pg_advisory_unlock(:k)")
                    params = {"k": key}
                else:
                    conn.execute(sa.text("SELECT GET_LOCK(:k, 600)"), {"k": f"cnntui-{key}"})
                    unlock = sa.text("SELECT RELEASE_LOCK(:k)")
                    params = {"k": f"cnntui-{key}"}
                try:
                    yield
                finally:
                    conn.execute(unlock, params)
        finally:
            engine.dispose()
        return
    yield  # other databases: no cross-worker lock (a racing worker may add a trial)


def worker_id() -> str:
    """``host:pid`` of this worker, recorded with each trial it runs."""
    return f"{os.uname().nodename}:{os.getpid()}"
