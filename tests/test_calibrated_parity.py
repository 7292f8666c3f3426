"""One rule for every face: the TUI's Predict screen and ``cnntui predict`` give the same
probabilities for the same image of a calibrated run (the run's temperature applied)."""

from __future__ import annotations

import json

import numpy as np
from run_factory import saved_models, write_digit_files, write_run
from tui_factory import wait_until
from typer.testing import CliRunner

from cnntui.cli.main import app as cli
from cnntui.tui.app import make_app

runner = CliRunner()


async def test_tui_predict_and_cli_predict_agree_on_a_calibrated_run(
    digits, tmp_path_factory, tmp_path
):
    models = saved_models(tmp_path_factory.getbasetemp())
    run = write_run(models["digits10"], [str(i) for i in range(10)], limit=600)
    fitted = runner.invoke(cli, ["calibrate", run.id, "--json"])
    assert fitted.exit_code == 0, fitted.output
    temperature = json.loads(fitted.stdout)["temperature"]
    assert abs(np.log(temperature)) > 0.05  # a temperature that changes the probabilities
    x, y = digits
    (image,) = write_digit_files(x[:1], y[:1], tmp_path / "digits")

    def cli_probabilities(*flags: str) -> np.ndarray:
        out = runner.invoke(cli, ["predict", str(image), "--run", run.id, "--json", "-k", "10",
                                  *flags])  # fmt: skip
        assert out.exit_code == 0, out.output
        top = json.loads(out.stdout)[0]["top"]
        return np.array([p for _, p in sorted((t["index"], t["probability"]) for t in top)])

    calibrated, raw = cli_probabilities(), cli_probabilities("--no-calibration")
    assert np.abs(calibrated - raw).max() > 1e-3  # the test can tell the two apart

    app = make_app(follow_running=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.open_run(run.id, "predict")
        screen = app.screen
        screen.query_one("#predict-paths").value = str(image)
        screen.action_predict()
        await wait_until(pilot, lambda: len(screen.predictions) == 1, 120, "the prediction")
        (shown,) = screen.predictions
    assert shown.ok
    np.testing.assert_allclose(shown.probabilities, calibrated, atol=2e-6)
