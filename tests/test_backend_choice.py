"""Choosing the Keras backend (cnntui.core.backend, `cnntui --backend`): checked before any
work, unknown or missing ones refused with exit 2 and what to install; recorded in runs."""

from __future__ import annotations

import os
import sys

import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core import backend
from cnntui.core.formats import describe


def test_an_unknown_backend_is_refused_naming_the_choices():
    with pytest.raises(backend.BackendError) as err:
        backend.check("theano")
    assert err.value.exit_code == 2
    assert "'theano'" in str(err.value) and "tensorflow, jax, torch" in str(err.value)


def test_a_backend_that_is_not_installed_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as an install without PyTorch
    with pytest.raises(backend.BackendError) as err:
        backend.check("torch")
    assert "'torch'" in str(err.value) and "not installed" in str(err.value)
    assert "pip install torch" in str(err.value)


def test_keras_variable_and_flag(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", " TensorFlow ")
    assert backend.requested() == "tensorflow"
    assert backend.requested("jax") == "jax"  # the flag wins over the variable


def test_switching_after_keras_is_imported_is_refused(monkeypatch):
    import keras

    assert keras.backend.backend() == "tensorflow"
    monkeypatch.setattr(backend, "installed", lambda name: True)
    with pytest.raises(backend.BackendError, match="already running on 'tensorflow'"):
        backend.select("jax")
    assert backend.select("tensorflow") == "tensorflow"
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_cli_refuses_a_bad_backend_before_any_work(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    runner = CliRunner()
    for args, words in (
        (["--backend", "mxnet", "train", "mnist-mlp"], ["unknown Keras backend 'mxnet'"]),
        (["--backend", "torch", "train", "mnist-mlp"], ["'torch'", "pip install torch"]),
        (["train", "mnist-mlp", "--backend", "mxnet"], ["unknown Keras backend 'mxnet'"]),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        out = result.output
        assert all(w in out for w in words), out
        assert "Traceback" not in out and out.count("\n") == 1  # one line


def test_the_begin_line_names_the_backend():
    line = describe({"event": "begin", "model": "m", "run_id": "r", "epochs": 2, "backend": "jax"})
    assert line.startswith("training m (run r) on jax: 2 epochs")


def _jaxlib(monkeypatch, version: str | None) -> None:
    real = backend.metadata.version

    def version_of(dist: str) -> str:
        if dist == "jaxlib":
            if version is None:
                raise backend.metadata.PackageNotFoundError(dist)
            return version
        return real(dist)

    monkeypatch.setattr(backend.metadata, "version", version_of)


def test_xla_cpu_convolution_flag_only_where_checked(monkeypatch):
    monkeypatch.delenv(backend.TUNING_ENV, raising=False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    _jaxlib(monkeypatch, "0.10.2")
    backend.use_xla_cpu_convolutions()
    assert os.environ["XLA_FLAGS"] == (
        "--xla_force_host_platform_device_count=2 " + backend.XLA_CPU_FLAG
    )  # the user's flags kept, ours after them
    backend.use_xla_cpu_convolutions()
    assert os.environ["XLA_FLAGS"].count("ynn_fusion_type") == 1  # set once
    for version in ("0.11.0", None):  # a jaxlib it was not checked with, or none: unknown
        monkeypatch.setenv("XLA_FLAGS", "")  # flags make XLA abort, so nothing is added
        _jaxlib(monkeypatch, version)
        backend.use_xla_cpu_convolutions()
        assert os.environ["XLA_FLAGS"] == ""


def test_xla_cpu_flag_leaves_the_users_choice_and_the_off_switch(monkeypatch):
    _jaxlib(monkeypatch, "0.10.2")
    mine = "--xla_cpu_experimental_ynn_fusion_type=dot"
    monkeypatch.setenv("XLA_FLAGS", mine)
    backend.use_xla_cpu_convolutions()
    assert os.environ["XLA_FLAGS"] == mine
    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.setenv(backend.TUNING_ENV, "off")
    assert not backend.jax_tuning()
    backend.use_xla_cpu_convolutions()
    assert os.environ["XLA_FLAGS"] == ""
