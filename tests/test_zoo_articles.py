"""The corrected tutorial entries against their articles: layer lists, parameter counts, shapes.

The expected counts are worked by hand from each article's layer list (in the comments),
not read back from the builders.
"""

from __future__ import annotations

import pytest

from cnntui.core import registry


def _layers(model) -> list[tuple[str, int | None]]:
    """(layer class, units or filters) for every layer after the input."""
    out = []
    for layer in model.layers[1:]:
        cfg = layer.get_config()
        out.append((type(layer).__name__, cfg.get("units", cfg.get("filters"))))
    return out


DENSE_OUT = ("Dense", 1)
ARTICLE_LAYERS = {
    # CIFAR-10: the article's five layers, no Dropout
    "cifar10-maxnorm": [("Conv2D", 32), ("Conv2D", 32), ("Flatten", None), ("Dense", 500),
                        ("Dense", 10)],
    # cats vs dogs: 256-unit fully connected layers, 512 in the last step
    "catsdogs-mlp": [("Flatten", None), ("Dense", 256), DENSE_OUT],
    "catsdogs-conv1": [("Conv2D", 24), ("MaxPooling2D", None), ("Flatten", None),
                       ("Dense", 256), DENSE_OUT],
    "catsdogs-conv2-48": [("Conv2D", 48), ("MaxPooling2D", None), ("Conv2D", 48),
                          ("MaxPooling2D", None), ("Flatten", None), ("Dense", 256), DENSE_OUT],
    "catsdogs-conv2-128": [("Conv2D", 128), ("MaxPooling2D", None), ("Conv2D", 128),
                           ("MaxPooling2D", None), ("Flatten", None), ("Dense", 256), DENSE_OUT],
    "catsdogs-conv2-fc512": [("Conv2D", 64), ("MaxPooling2D", None), ("Conv2D", 128),
                             ("MaxPooling2D", None), ("Flatten", None), ("Dense", 512),
                             DENSE_OUT],
    "mnist-conv-pool-nodense": [("Conv2D", 64), ("MaxPooling2D", None), ("Conv2D", 32),
                                ("MaxPooling2D", None), ("Flatten", None), ("Dense", 10)],
}  # fmt: skip
PARAMS = {
    # 896 + 9,248 + 32*32*32*500+500 + 5,010
    "cifar10-maxnorm": 16_399_654,
    # 94*125*3*256+256 + 257
    "catsdogs-mlp": 9_024_513,
    # 672 + (46*62*24)*256+256 + 257
    "catsdogs-conv1": 17_523_873,
    # 1,344 + 20,784 + (22*30*48)*256+256 + 257
    "catsdogs-conv2-48": 8_132_721,
    # 3,584 + 147,584 + (22*30*128)*256+256 + 257
    "catsdogs-conv2-128": 21_778_561,
    # 1,792 + 73,856 + (22*30*128)*512+512 + 513
    "catsdogs-conv2-fc512": 43_330_433,
    # 448 + 4,640 + 18,496 + 73,856 + 8,256 + 256 (BatchNorm) + 65
    "celeba-gap": 106_017,
    # 640 + 18,464 + (7*7*32)*10+10
    "mnist-conv-pool-nodense": 34_794,
}


@pytest.mark.parametrize("name", sorted(ARTICLE_LAYERS))
def test_layer_list_matches_the_article(name):
    model = registry.get_model(name).build()
    assert _layers(model) == ARTICLE_LAYERS[name]


@pytest.mark.parametrize("name,params", sorted(PARAMS.items()))
def test_parameter_count_matches_the_hand_count(name, params):
    entry = registry.get_model(name)
    assert entry.build().count_params() == params
    assert entry.reported.params in (None, params)


def test_celeba_defaults_to_native_size_and_its_final_maps_are_128_of_12_by_14():
    entry = registry.get_model("celeba-gap")
    assert entry.input_shape == (218, 178, 3)
    model = entry.build()
    # 218 rows x 178 columns -> 14 x 12 after four same-padded 2x2 poolings
    assert tuple(model.get_layer("pool4").output.shape[1:]) == (14, 12, 128)
    assert "centre-cropped" not in entry.choices + entry.description


def test_catsdogs_epochs_and_learning_rates_follow_the_article():
    hp = {e.name: e.hyperparameters for e in registry.list_models("catsdogs-*")}
    assert {n: h.epochs for n, h in hp.items()} == {
        "catsdogs-mlp": 10,
        "catsdogs-conv1": 5,
        "catsdogs-conv2-48": 15,
        "catsdogs-conv2-128": 15,
        "catsdogs-conv2-fc512": 15,
    }
    mlp = hp.pop("catsdogs-mlp").learning_rate
    assert all(h.learning_rate <= mlp / 10 for h in hp.values())  # "much smaller"
    for name in hp:
        assert f"learning rate {hp[name].learning_rate:g}" in registry.get_model(name).choices


def test_every_number_the_articles_give_is_recorded():
    fig = {e.name: {**e.reported.figures, e.reported.metric: e.reported.value}
           for e in registry.list_models(tag="tutorial")}  # fmt: skip
    assert [fig[f"catsdogs-{n}"]["pearson"] for n in ("conv1", "conv2-48", "conv2-128")] == [
        0.152, 0.21, 0.30,
    ]  # fmt: skip
    assert fig["catsdogs-conv2-fc512"]["pearson"] == 0.42
    assert 0.33 in [f.get("val_mse") for f in fig.values()]
    assert fig["cifar10-maxnorm"]["train_accuracy"] == 0.796
    for entry in registry.list_models(tag="tutorial"):
        assert entry.reported.note.startswith("article"), entry.name


def test_protocols_name_each_articles_data():
    by_name = {e.name: e.reported for e in registry.list_models(tag="tutorial")}
    assert {n for n, r in by_name.items() if r.data == "mnist"} == {
        n for n in by_name if n.startswith("mnist-")
    }
    assert all(r.rescale == "none" and r.split == "test" for n, r in by_name.items()
               if n.startswith("mnist-"))  # fmt: skip
    assert by_name["cifar10-maxnorm"].data == "cifar10"
    folder = [n for n in by_name if n.startswith(("catsdogs", "celeba"))]
    assert all(not by_name[n].data and by_name[n].needs for n in folder)
    assert by_name["celeba-gap"].patience > 0
    assert {by_name[n].positive_class for n in folder if n.startswith("catsdogs")} == {"cat"}


# -- the sheet: ../shared/ARTICLES.md, transcribed here (issue 31) ----------------------
# Every number each article reports, by entry: headline and other figures together.
SHEET_FIGURES = {
    # "validation accuracy peaked at 95%"; "test accuracy 95% on the 1,000 test images"
    "celeba-gap": {"test_accuracy": 0.95, "val_accuracy_peak": 0.95},
    # "converged to random guessing" (no number: chance on balanced classes)
    "catsdogs-mlp": {"best_threshold_accuracy": 0.5},
    # "after 5 epochs validation MSE 0.36; Pearson correlation 15.2%"
    "catsdogs-conv1": {"val_mse": 0.36, "pearson": 0.152},
    # "Pearson 0.21, validation MSE 0.33; best accuracy over 10 thresholds: 61%"
    "catsdogs-conv2-48": {"pearson": 0.21, "val_mse": 0.33, "best_threshold_accuracy": 0.61},
    # "Pearson 30%, best accuracy 67%"
    "catsdogs-conv2-128": {"pearson": 0.30, "best_threshold_accuracy": 0.67},
    # "validation loss 0.75 (as printed), Pearson 42%, accuracy 75%" (the loss is the MSE)
    "catsdogs-conv2-fc512": {"val_mse": 0.75, "pearson": 0.42, "best_threshold_accuracy": 0.75},
    # "97.57% validation accuracy after 3 epochs"; the first 4 test images "all correct"
    "mnist-2conv": {"val_accuracy": 0.9757, "first4_test_accuracy": 1.0},
    # "MLP 92.33% (val loss 0.3089); conv 97.95% (188 s an epoch); conv + pooling 98.38%
    # (35 s an epoch, val loss 0.0621)"
    "mnist-mlp": {"val_accuracy": 0.9233, "val_loss": 0.3089},
    "mnist-conv": {"val_accuracy": 0.9795, "epoch_seconds": 188},
    "mnist-conv-pool": {"val_accuracy": 0.9838, "val_loss": 0.0621, "epoch_seconds": 35},
    "mnist-conv-pool-nodense": {},  # a closing suggestion, no figure
    # "training accuracy 0.796, validation accuracy 0.662"; "class 0 precision 0.24"
    "cifar10-maxnorm": {"val_accuracy": 0.662, "train_accuracy": 0.796, "precision_class0": 0.24},
}
# The epochs each figure was reported at (None: not stated) and the parameter counts given.
SHEET_EPOCHS = {
    "celeba-gap": 30, "catsdogs-mlp": 10, "catsdogs-conv1": 5, "catsdogs-conv2-48": 15,
    "catsdogs-conv2-128": None, "catsdogs-conv2-fc512": None, "mnist-2conv": 3,
    "mnist-mlp": 10, "mnist-conv": 10, "mnist-conv-pool": 10, "mnist-conv-pool-nodense": None,
    "cifar10-maxnorm": 10,
}  # fmt: skip
SHEET_PARAMS = {"mnist-mlp": 26_506, "mnist-conv-pool": 70_698, "cifar10-maxnorm": 16_399_654}
# Training as stated: (loss, batch size or None, learning rate or None, epochs or None).
CCE = "categorical_crossentropy"
SHEET_TRAINING = {
    "celeba-gap": ("binary_crossentropy", None, None, 30),
    "catsdogs-mlp": ("mean_squared_error", None, 1e-5, 10),
    "catsdogs-conv1": ("mean_squared_error", None, None, 5),
    "catsdogs-conv2-48": ("mean_squared_error", None, None, 15),
    "catsdogs-conv2-128": ("mean_squared_error", None, None, None),
    "catsdogs-conv2-fc512": ("mean_squared_error", None, None, None),
    "mnist-2conv": (CCE, 32, None, 3),  # "batch size not stated: Keras's default 32"
    "mnist-mlp": (CCE, 128, None, 10),
    "mnist-conv": (CCE, 128, None, 10),
    "mnist-conv-pool": (CCE, 128, None, 10),
    "mnist-conv-pool-nodense": (CCE, 128, None, 10),
    "cifar10-maxnorm": (CCE, None, None, 10),
}


def _tutorials() -> dict[str, registry.ModelEntry]:
    return {e.name: e for e in registry.list_models(tag="tutorial")}


def test_every_tutorial_entry_is_on_the_sheet():
    assert set(_tutorials()) == set(SHEET_FIGURES)


@pytest.mark.parametrize("name", sorted(SHEET_FIGURES))
def test_figures_are_the_sheets(name):
    r = _tutorials()[name].reported
    recorded = {**r.figures, **({r.metric: r.value} if r.value is not None else {})}
    assert recorded == SHEET_FIGURES[name]
    assert r.epochs == SHEET_EPOCHS[name]
    assert r.params == SHEET_PARAMS.get(name)


@pytest.mark.parametrize("name", sorted(SHEET_TRAINING))
def test_training_defaults_are_the_sheets_where_it_states_them(name):
    hp = _tutorials()[name].hyperparameters
    loss, batch, lr, epochs = SHEET_TRAINING[name]
    assert (hp.optimizer, hp.loss) == ("adam", loss)  # Adam for every article
    assert batch is None or hp.batch_size == batch
    assert lr is None or hp.learning_rate == lr
    assert epochs is None or hp.epochs == epochs


def test_the_conv_models_learn_much_slower_than_the_catsdogs_mlp():
    hp = {e.name: e.hyperparameters.learning_rate for e in registry.list_models("catsdogs-*")}
    mlp = hp.pop("catsdogs-mlp")
    assert all(lr < mlp for lr in hp.values())  # "a much smaller learning rate"


@pytest.mark.parametrize("name", sorted(SHEET_FIGURES))
def test_what_the_article_does_not_state_is_a_documented_choice(name):
    entry = _tutorials()[name]
    assert entry.reported.not_stated, name
    choices = entry.choices.lower()
    for item in entry.reported.not_stated:
        assert item in choices, (name, item)
    assert "not stated" in choices
    batch_stated = SHEET_TRAINING[name][1] is not None and name != "mnist-2conv"
    assert ("batch size" in entry.reported.not_stated) is not batch_stated


def test_zoo_show_says_what_the_article_does_not_state():
    from typer.testing import CliRunner

    from cnntui.cli.main import app

    out = CliRunner().invoke(app, ["zoo", "show", "celeba-gap"]).stdout
    assert "also: val_accuracy_peak 95.00%" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("not stated:"))
    assert "early-stopping patience" in line and "batch size" in line
    assert "the article does not state them" in line


def test_the_2conv_hand_count():
    # 640 + 18,464 + (24*24*32)*10+10: the sheet gives no count for this article
    assert registry.get_model("mnist-2conv").build().count_params() == 203_434
