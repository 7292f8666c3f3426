"""Pretrained backbones from ``keras.applications``, for fine-tuning (``--recipe finetune``).

Each entry is a ``keras.applications`` model without its ImageNet top, nested in a cnntui
classifier (:func:`cnntui.core.zoo_layers.backbone_classifier`): the pixels the weights
expect are made inside the model (grey images become three channels, a small input is
resized up, the backbone's own preprocessing follows), then cnntui's head (global average
pooling, dropout, the classifier). The builder makes the architecture with random weights;
``--weights`` (``imagenet`` by default: Keras's own download into its cache, a local file,
an earlier run's backbone, or ``none``) fills the backbone before training.

The figures are the ones Keras documents for the ImageNet weights at 224x224
(keras.io/api/applications; MobileNetV3's from its ``keras.applications`` module).
"""

import dataclasses

from cnntui.core.registry import Hyperparameters, Pretrained, Reported, register_model
from cnntui.core.zoo_layers import backbone_classifier

_TAGS = ("pretrained", "backbone", "conv", "batchnorm")
_REPORTED = Reported(
    dataset="ImageNet (ILSVRC 2012) validation, 224x224, single crop",
    metric="top1_accuracy",
    note="the backbone's ImageNet figure as Keras documents it; fine-tuned on your data, "
    "cnntui reports your data's own accuracy",
)
# Fine-tuning defaults (docs/training.md, "Fine-tuning"): the head trains with the backbone
# frozen for ``freeze_epochs``, then everything but BatchNorm at the backbone's lower rate.
_HP = Hyperparameters(
    optimizer="adamw",
    learning_rate=2e-3,
    loss="sparse_categorical_crossentropy",
    batch_size=32,
    epochs=5,
    schedule="cosine",
    warmup=0.3,
    weight_decay=1e-2,
    label_smoothing=0.1,
    ema=False,
)
_MOBILE = "pixels scaled to [-1, 1] (x / 127.5 - 1 on 0-255) by the backbone's Rescaling layer"
_TORCH_STATS = "0-255 scaled to [0, 1], then normalised by ImageNet's mean and variance"


def _check(dropout, **_) -> None:
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}")


def _entry(name: str, title: str, pretrained: Pretrained, reference: str, url: str, **kw):
    reported = dataclasses.replace(_REPORTED, value=pretrained.top1)
    return register_model(
        name,
        title=title,
        description=f"keras.applications.{pretrained.application} (no top) with cnntui's "
        f"head; the weights expect {pretrained.preprocessing}, done inside the model.",
        reference=reference,
        reference_url=url,
        reported=reported,
        input_shape=pretrained.native_input,
        num_classes=1000,
        hyperparameters=kw.pop("hyperparameters", _HP),
        tags=_TAGS + tuple(kw.pop("tags", ())),
        recipe="finetune",
        check_args=_check,
        pretrained=pretrained,
        **kw,
    )


@_entry(
    "mobilenetv3-small",
    "MobileNetV3-Small (ImageNet): the fastest backbone on a CPU",
    Pretrained(
        "MobileNetV3Small",
        top1=0.681,
        params_m=2.9,
        source="keras.applications.mobilenet_v3 (mobilenet_v3_small_1.0_224)",
        preprocessing=_MOBILE,
        block_pattern=r"^(expanded_conv(?:_\d+)?)_",
    ),  # fmt: skip
    "Howard et al., 'Searching for MobileNetV3', ICCV 2019",
    "https://arxiv.org/abs/1905.02244",
    tags=("mobile",),
)
def mobilenetv3_small(input_shape, num_classes, dropout=0.2):
    """``dropout``: before the classifier."""
    return backbone_classifier("MobileNetV3Small", input_shape, num_classes, dropout=dropout)


@_entry(
    "mobilenetv3-large",
    "MobileNetV3-Large (ImageNet)",
    Pretrained(
        "MobileNetV3Large",
        top1=0.756,
        params_m=5.4,
        source="keras.applications.mobilenet_v3 (mobilenet_v3_large_1.0_224)",
        preprocessing=_MOBILE,
        block_pattern=r"^(expanded_conv(?:_\d+)?)_",
    ),  # fmt: skip
    "Howard et al., 'Searching for MobileNetV3', ICCV 2019",
    "https://arxiv.org/abs/1905.02244",
    tags=("mobile",),
)
def mobilenetv3_large(input_shape, num_classes, dropout=0.2):
    """``dropout``: before the classifier."""
    return backbone_classifier("MobileNetV3Large", input_shape, num_classes, dropout=dropout)


@_entry(
    "mobilenetv2",
    "MobileNetV2 (ImageNet)",
    Pretrained(
        "MobileNetV2",
        top1=0.713,
        params_m=3.5,
        size_mb=14,
        preprocessing="pixels scaled to [-1, 1] (x / 127.5 - 1 on 0-255)",
        block_pattern=r"^(block_\d+)_",
    ),  # fmt: skip
    "Sandler et al., 'MobileNetV2: Inverted Residuals and Linear Bottlenecks', CVPR 2018",
    "https://arxiv.org/abs/1801.04381",
    tags=("mobile",),
)
def mobilenetv2(input_shape, num_classes, dropout=0.2):
    """``dropout``: before the classifier."""
    return backbone_classifier(
        "MobileNetV2", input_shape, num_classes, pixels=(2.0, -1.0), dropout=dropout
    )


@_entry(
    "efficientnetv2-b0",
    "EfficientNetV2-B0 (ImageNet)",
    Pretrained(
        "EfficientNetV2B0",
        top1=0.787,
        params_m=7.2,
        size_mb=29,
        preprocessing=_TORCH_STATS,
        block_pattern=r"^(block\d+[a-z])_",
    ),  # fmt: skip
    "Tan & Le, 'EfficientNetV2: Smaller Models and Faster Training', ICML 2021",
    "https://arxiv.org/abs/2104.00298",
)
def efficientnetv2_b0(input_shape, num_classes, dropout=0.2):
    """``dropout``: before the classifier."""
    return backbone_classifier("EfficientNetV2B0", input_shape, num_classes, dropout=dropout)


@_entry(
    "resnet50v2",
    "ResNet50V2 (ImageNet)",
    Pretrained(
        "ResNet50V2",
        top1=0.760,
        params_m=25.6,
        size_mb=98,
        preprocessing="pixels scaled to [-1, 1] (x / 127.5 - 1 on 0-255)",
        block_pattern=r"^(conv\d_block\d+)_",
    ),  # fmt: skip
    "He et al., 'Identity Mappings in Deep Residual Networks', ECCV 2016",
    "https://arxiv.org/abs/1603.05027",
    tags=("residual",),
)
def resnet50v2(input_shape, num_classes, dropout=0.2):
    """``dropout``: before the classifier."""
    return backbone_classifier(
        "ResNet50V2", input_shape, num_classes, pixels=(2.0, -1.0), dropout=dropout
    )


@_entry(
    "convnext-tiny",
    "ConvNeXt-Tiny (ImageNet)",
    Pretrained(
        "ConvNeXtTiny",
        top1=0.813,
        params_m=28.6,
        size_mb=109.42,
        preprocessing=_TORCH_STATS,
        block_pattern=r"^convnext_tiny_(stage_\d_block_\d+)_",
    ),
    "Liu et al., 'A ConvNet for the 2020s', CVPR 2022",
    "https://arxiv.org/abs/2201.03545",
    tags=("layernorm",),
)
def convnext_tiny(input_shape, num_classes, dropout=0.2):
    """``dropout``: before the classifier."""
    return backbone_classifier("ConvNeXtTiny", input_shape, num_classes, dropout=dropout)
