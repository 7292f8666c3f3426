"""Pilot tests of the key rules: typing never turns into commands, starting and stopping ask
first, hidden widgets never keep the focus, every screen's keys fit at 80 columns."""

from __future__ import annotations

import json

import numpy as np
import pytest
from textual.widgets import Input
from tui_factory import wait_until, write_run

from cnntui.core.runs import runs_root
from cnntui.tui.app import SCREENS_ORDER, make_app
from cnntui.tui.screens.base import shown

SIZE = (80, 24)
PATH = "/tmp/x/digits"  # t, d, i, s, p, x: every letter that used to be a shortcut
KEYS = [{"/": "slash"}.get(c, c) for c in PATH]
# workers a stray key must not start
WORK = {"launch", "inspect", "evaluate", "predict", "build", "lrfind"}


def _work_started(app) -> list[str]:
    return [w.group for w in app.workers if w.group in WORK]


def _run_dirs() -> list[str]:
    root = runs_root()
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


async def _type_from_every_focus(pilot, mode: str) -> int:
    """Type PATH with each focusable widget (and nothing) focused; return how many tried."""
    app = pilot.app
    await app.switch_mode(mode)
    await pilot.pause()
    screen = app.screen
    runs_before = _run_dirs()
    targets = [None, *screen.focus_chain]
    for target in targets:
        if target is not None and not shown(target):
            continue
        field = screen.typing_field()
        if field is not None:
            field.value = ""
        if target is None:
            screen.set_focus(None)
        else:
            target.focus()
        await pilot.pause()
        focused_input = target if isinstance(target, Input) else None
        before = focused_input.value if focused_input is not None else None
        await pilot.press(*KEYS)
        await pilot.pause()
        where = f"{mode} screen, focus on {target!r}"
        assert app.screen is screen, f"{where}: the screen changed to {app.screen!r}"
        assert app.current_mode == mode, where
        assert _work_started(app) == [], f"{where}: started {_work_started(app)}"
        assert _run_dirs() == runs_before, f"{where}: a run was created"
        if focused_input is not None:
            if focused_input.restrict is None and focused_input.type == "text":
                # appended, or replacing what focusing it selected
                assert focused_input.value in (before + PATH, PATH), where
            else:  # a number field refuses letters, and nothing else takes them
                assert PATH not in focused_input.value, where
        elif field is not None:
            assert field.value == PATH, f"{where}: the text did not land in {field.id}"
    return len(targets)


@pytest.mark.parametrize("mode", SCREENS_ORDER)
async def test_a_typed_path_never_runs_commands(mode, tui_zoo):
    root = runs_root()
    write_run(root, "run-a", epochs=2, created=1_700_000_000.0, checkpoint=True)
    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        if mode == "train":
            await app.use_model("tuitest-tiny")
        tried = await _type_from_every_focus(pilot, mode)
        assert tried >= 2  # no focus, and at least one widget


async def test_typing_after_following_a_run_and_toggling_the_form(tui_zoo):
    root = runs_root()
    write_run(root, "run-b", epochs=3, created=1_700_000_100.0)
    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.open_run("run-b", "train")
        screen = app.screen
        await wait_until(pilot, lambda: screen.progress.finished, 20, "run-b to be read")
        form = screen.query_one("#train-form")
        assert not form.display
        data = screen.query_one("#train-data")
        for _ in range(3):  # f, f, f of the issue: show, hide, show…
            await pilot.press("ctrl+f")
            await pilot.pause()
            if form.display:
                data.focus()
                await pilot.pause()
            assert app.focused is None or shown(app.focused), app.focused
        await pilot.press("ctrl+f")  # hidden again, while the data field had the focus
        await pilot.pause()
        assert not form.display
        assert app.focused is None or shown(app.focused)
        value = data.value
        await pilot.press(*KEYS, "r")
        await pilot.pause()
        assert data.value == value  # a hidden field takes no typing
        assert app.screen is screen and _run_dirs() == ["run-b"]


async def test_start_asks_naming_model_data_and_epochs(tui_zoo):
    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.use_model("tuitest-tiny")
        await pilot.pause()
        train = app.screen
        train.query_one("#train-epochs").value = "2"
        await pilot.press("ctrl+s")
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "Confirm"
        question = str(dialog.query_one("#confirm-question").render())
        assert question == "Train tuitest-tiny on sample for 2 epochs?"
        assert app.focused.id == "confirm-yes"
        await pilot.press(*"sss", "y")  # letters do nothing in the dialog
        await pilot.pause()
        assert app.screen is dialog
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is train
        assert train.run_dir is None and _work_started(app) == [] and _run_dirs() == []
        # the Start button asks too
        train.query_one("#train-start").press()
        await pilot.pause()
        assert type(app.screen).__name__ == "Confirm"
        await pilot.press("tab", "enter")  # Cancel
        await pilot.pause()
        assert app.screen is train and _run_dirs() == []


async def test_stop_on_the_runs_screen_asks_and_names_the_run():
    root = runs_root()
    write_run(root, "run-live", epochs=3, status="running", finish=False)
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        screen = app.screen
        await wait_until(pilot, lambda: len(screen.rows) == 1, 20, "the runs table")
        await pilot.press("x", "ctrl+t")
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "Confirm"
        assert "run-live" in str(dialog.query_one("#confirm-question").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        info = json.loads((root / "run-live" / "status.json").read_text())
        assert info["status"] == "running"  # nothing was sent


@pytest.mark.parametrize("mode", ["runs", "zoo"])
async def test_keys_panel_closes_with_escape_and_question_mark(mode):
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.switch_mode(mode)
        await pilot.pause()
        screen = app.screen
        for closing_key in ("question_mark", "escape"):
            if screen.typing_field() is None:
                await pilot.press("question_mark")
            else:  # `?` is typed there; the palette's "Keys" opens it
                app.action_show_help_panel()
            await pilot.pause()
            assert screen.query("HelpPanel"), "the keys panel did not open"
            await pilot.press(closing_key)
            await pilot.pause()
            assert not screen.query("HelpPanel"), f"{closing_key} did not close the keys panel"


@pytest.mark.parametrize(
    ("mode", "tabs", "panes"),
    [
        ("data", "#data-tabs", ["data-classes", "data-summary", "data-samples-tab", "data-bad"]),
        ("evaluate", "#eval-tabs", ["eval-confusion", "eval-classes"]),
    ],
)
async def test_inner_tabs_have_keys_shown_in_the_footer(mode, tabs, panes):
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.switch_mode(mode)
        await pilot.pause()
        screen = app.screen
        content = screen.query_one(tabs)
        seen = [content.active]
        for _ in panes[1:]:
            await pilot.press("ctrl+pagedown")
            await pilot.pause()
            seen.append(content.active)
        assert seen == panes
        await pilot.press("ctrl+pageup")
        assert content.active == panes[-2]
        footer = [k.description for k in screen.query("FooterKey")]
        assert "Tabs" in footer


ESSENTIAL = {
    "zoo": {"Train this", "Tabs", "Quit"},
    "data": {"Inspect", "Browse", "Tabs", "Quit"},
    "train": {"Start", "Stop", "Form", "Find LR", "Quit"},
    "runs": {"Follow", "Compare", "Eval", "Predict", "Stop", "Keys", "Quit"},
    "evaluate": {"Evaluate", "Heatmap", "Tabs", "Keys", "Quit"},
    "predict": {"Predict", "Browse", "Quit"},
}


async def _laid_out_footer_keys(app, pilot, attempts: int = 50) -> list:
    """The screen's footer keys once layout has given them a size (a loaded CI box may need
    several refreshes after a mode switch before the footer is arranged)."""
    keys: list = []
    for _ in range(attempts):
        await pilot.pause(0.05)
        keys = list(app.screen.query("FooterKey"))
        if keys and all(k.region.width > 0 for k in keys):
            break
    return keys


@pytest.mark.parametrize("mode", SCREENS_ORDER)
async def test_every_screen_footer_fits_80_columns(mode):
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.switch_mode(mode)
        keys = await _laid_out_footer_keys(app, pilot)
        whole = [  # drawn in full: key, space, description
            k
            for k in keys
            if k.region.width >= len(k.key_display) + 1 + len(k.description)
            and k.region.right <= SIZE[0]
        ]
        visible = {k.description for k in whole}
        assert ESSENTIAL[mode] <= visible, f"missing at 80 columns: {ESSENTIAL[mode] - visible}"
        assert all(k.region.right <= SIZE[0] for k in keys)


async def test_open_model_dropdown_shows_every_row(tui_zoo):
    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.use_model("tuitest-tiny")
        await pilot.pause()
        select = app.screen.query_one("#train-model")
        select.focus()
        await pilot.press("enter")
        await pilot.pause()
        overlay = select.query_one("SelectOverlay")
        assert overlay.display and overlay.option_count > 5
        rows = [overlay.render_line(y).text.strip() for y in range(overlay.size.height)]
        names = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
        visible = [name for name in names if name in rows]
        assert len(visible) >= min(len(names), overlay.size.height) - 1, rows


@pytest.fixture
def few_npz(tmp_path, digits_small):
    """60 real digits of every class in an .npz (quick to inspect)."""
    x, y = digits_small
    npz = tmp_path / "few.npz"
    np.savez(npz, x=x[:60], y=y[:60])
    return npz


async def test_data_source_carries_to_train_and_errors_stay_in_the_pane(tmp_path, few_npz):
    npz = few_npz
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        data = app.screen
        await pilot.press(*str(npz), "enter")
        bars = data.query_one("#data-counts")
        await wait_until(pilot, lambda: bars.labels, 60, "the inspection")
        await pilot.press("f3")
        await pilot.pause()
        assert app.screen.query_one("#train-data").value == str(npz)
        # an error replaces the previous source's figures and stays in the pane
        await pilot.press("f2")
        await pilot.pause()
        field = data.query_one("#data-source")
        field.value = str(tmp_path / "nope")
        field.focus()
        await pilot.press("enter")
        message = data.query_one("#data-message")
        await wait_until(
            pilot, lambda: "Could not inspect" in str(message.render()), 30, "the error"
        )
        assert bars.labels == []
        assert "Could not inspect" in str(data.query_one("#data-samples").render())
        app.clear_notifications()
        await pilot.pause()
        assert "nope" in str(message.render())
        # Train keeps the last source that was inspected successfully
        await pilot.press("f3")
        await pilot.pause()
        assert app.screen.query_one("#train-data").value == str(npz)


async def test_train_field_edited_by_the_user_is_not_overwritten(few_npz):
    npz = few_npz
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        app.screen.query_one("#train-data").value = "mnist"
        await pilot.press("f2")
        await pilot.pause()
        data = app.screen
        data.query_one("#data-source").value = str(npz)
        await pilot.press("enter")
        await wait_until(pilot, lambda: data.query_one("#data-counts").labels, 60, "inspect")
        await pilot.press("f3")
        await pilot.pause()
        assert app.screen.query_one("#train-data").value == "mnist"


async def test_predict_run_selector_offers_a_run_that_finished_since():
    root = runs_root()
    write_run(root, "run-a", created=1_700_000_000.0, checkpoint=True)
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        select = app.screen.query_one("#predict-run")
        assert select.value == "run-a"
        write_run(root, "run-b", created=1_700_000_100.0, checkpoint=True)
        await wait_until(pilot, lambda: select.value == "run-b", 10, "run-b to be offered")
        select.value = "run-a"  # the user's choice is kept
        write_run(root, "run-c", created=1_700_000_200.0, checkpoint=True)
        await wait_until(pilot, lambda: len(select._options) == 3, 10, "run-c to be listed")
        assert select.value == "run-a"


async def test_skipped_files_are_shown_on_the_train_screen():
    root = runs_root()
    run_dir = write_run(root, "run-bad", epochs=2)
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    begin = json.loads(lines[0])
    begin["skipped"] = 3
    begin["skipped_files"] = [
        {"path": "/photos/cat/broken.jpg", "reason": "truncated file"},
        {"path": "/photos/dog/notes.txt", "reason": "not an image file"},
    ]
    lines[0] = json.dumps(begin)
    (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n")
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.open_run("run-bad", "train")
        screen = app.screen
        await wait_until(pilot, lambda: screen.progress.finished, 20, "the run to be read")
        log = "\n".join(screen.query_one("#train-log").lines)
        assert "skipped 3 unreadable file(s)" in log
        assert "/photos/cat/broken.jpg: truncated file" in log
        assert "and 1 more" in log


def test_zoo_source_is_the_entry_builder(tui_zoo):
    from cnntui.core import registry
    from cnntui.tui.screens.zoo import builder_source

    registry.load_zoo([tui_zoo])
    code, first = builder_source(registry.get_model("tuitest-tiny"))
    assert "def tiny(input_shape, num_classes):" in code
    assert "from cnntui.core.registry import" not in code  # not the module from line 1
    assert first > 1


def test_matrix_columns_fit_class_names():
    from cnntui.tui.screens.evaluate import matrix_column_width

    assert matrix_column_width(["cats", "dogs"], 40) == 5  # `cats`, not `ca`
    assert matrix_column_width([str(k) for k in range(10)], 120) == 4
    assert matrix_column_width([f"class-{k}" for k in range(20)], 9) == 3


def test_runs_labels():
    from cnntui.tui.screens.runs import data_label, legend_label

    assert data_label("/home/me/photos") == "photos"
    assert data_label("sample") == "sample"
    assert data_label(None) == "-"
    assert legend_label("20261122-035637-mnist-mlp-66e7", "mnist-mlp") == "mnist-mlp·66e7"
    assert legend_label("run-a", "tuitest-tiny") == "run-a"
