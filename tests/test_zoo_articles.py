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
