"""Stronger modern entries: what the tutorials only mention, put to work.

Each one uses global average pooling instead of a huge Flatten -> Dense layer, so it has a
fraction of the tutorials' parameters, adapts to any input size, and generalises better.
Each takes ``l1``/``l2`` builder parameters (``--l1``/``--l2``): an L1/L2 penalty on every
kernel, the regularisation the MNIST comparison article names.
"""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import check_penalties, classifier_head, image_input, regularize

_HP = Hyperparameters(
    optimizer="adam",
    learning_rate=1e-3,
    loss="sparse_categorical_crossentropy",
    batch_size=64,
    epochs=15,
)
# PyTorch's default: moving statistics settle within an epoch on small datasets, where
# Keras's 0.99 leaves validation at chance for the first few hundred steps.
_BN_MOMENTUM = 0.9
_BEATS = Reported(
    dataset="MNIST / CIFAR-10",
    metric="val_accuracy",
    note="no article: meant to beat the tutorial entries on the same data "
    "(compare with `cnntui reproduce` and `cnntui runs compare`)",
)


def _check_args(width=32, depth=1, dropout=0.0, l1=0.0, l2=0.0, **_) -> None:
    """The values these builders refuse (each passes the parameters it has)."""
    if width < 1 or depth < 1:
        raise ValueError(f"width and depth must be at least 1; got width={width}, depth={depth}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}")
    check_penalties(l1, l2)


def _conv_bn_relu(x, filters, kernel=3, strides=1, name=""):
    from keras import layers

    x = layers.Conv2D(
        filters, kernel, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


@register_model(
    "vgg-bn-dropout",
    title="VGG-style blocks with BatchNormalization and Dropout",
    description="Three blocks of two Conv-BN-ReLU (32, 64, 128 filters) with max pooling "
    "and spatial dropout, then global average pooling, Dense 128 and Dropout 0.5. "
    "Batch normalisation lets it train fast at a high learning rate; dropout keeps it "
    "from memorising small datasets.",
    reference="Ioffe & Szegedy 2015 (BatchNorm); Srivastava et al. 2014 (Dropout); "
    "Simonyan & Zisserman 2014 (VGG)",
    reported=_BEATS,
    input_shape=(32, 32, 3),
    num_classes=10,
    hyperparameters=_HP,
    recipe="modern",
    check_args=_check_args,
    tags=("modern", "batchnorm", "dropout", "conv"),
)
def vgg_bn_dropout(input_shape, num_classes, width=32, dropout=0.25, l1=0.0, l2=0.0):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = inputs
    for b, filters in enumerate((width, width * 2, width * 4), start=1):
        x = _conv_bn_relu(x, filters, name=f"block{b}a")
        x = _conv_bn_relu(x, filters, name=f"block{b}b")
        x = layers.MaxPooling2D(2, padding="same", name=f"block{b}_pool")(x)
        x = layers.SpatialDropout2D(dropout / 2, name=f"block{b}_drop")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(128, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name="fc_bn")(x)
    x = layers.ReLU(name="fc_relu")(x)
    x = layers.Dropout(0.5, name="fc_drop")(x)
    outputs = classifier_head(x, num_classes)
    return regularize(keras.Model(inputs, outputs, name="vgg_bn_dropout"), l1, l2)


def _residual_block(x, filters, strides, name):
    from keras import layers

    shortcut = x
    y = _conv_bn_relu(x, filters, strides=strides, name=f"{name}_1")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_2_bn")(y)
    if strides != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=strides, use_bias=False, name=f"{name}_proj_conv"
        )(shortcut)
        shortcut = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_proj_bn")(
            shortcut
        )
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.ReLU(name=f"{name}_out")(y)


@register_model(
    "resnet-mini",
    title="Small ResNet: residual blocks with projection shortcuts",
    description="A CIFAR-style ResNet: a 3x3 stem, three stages of two basic residual blocks "
    "(32, 64, 128 filters; stride 2 between stages, 1x1 projection shortcuts), global "
    "average pooling and a softmax. Identity shortcuts keep gradients flowing, so depth "
    "helps instead of hurting.",
    reference="He et al., 'Deep Residual Learning for Image Recognition', CVPR 2016",
    reported=_BEATS,
    input_shape=(32, 32, 3),
    num_classes=10,
    hyperparameters=_HP,
    recipe="modern",
    check_args=_check_args,
    tags=("modern", "residual", "batchnorm", "conv"),
)
def resnet_mini(input_shape, num_classes, width=32, depth=2, l1=0.0, l2=0.0):
    """``width``: filters of the first stage (x2, x4 after); ``depth``: blocks per stage."""
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = _conv_bn_relu(inputs, width, name="stem")
    for s, filters in enumerate((width, width * 2, width * 4), start=1):
        for b in range(depth):
            strides = 2 if (s > 1 and b == 0) else 1
            x = _residual_block(x, filters, strides, name=f"stage{s}_block{b + 1}")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="drop")(x)
    outputs = classifier_head(x, num_classes)
    return regularize(keras.Model(inputs, outputs, name="resnet_mini"), l1, l2)


def _inception_module(x, f1, f3r, f3, f5r, f5, fp, name):
    from keras import layers

    b1 = _conv_bn_relu(x, f1, kernel=1, name=f"{name}_1x1")
    b3 = _conv_bn_relu(x, f3r, kernel=1, name=f"{name}_3x3_reduce")
    b3 = _conv_bn_relu(b3, f3, kernel=3, name=f"{name}_3x3")
    b5 = _conv_bn_relu(x, f5r, kernel=1, name=f"{name}_5x5_reduce")
    b5 = _conv_bn_relu(b5, f5, kernel=5, name=f"{name}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = _conv_bn_relu(bp, fp, kernel=1, name=f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_concat")([b1, b3, b5, bp])


@register_model(
    "inception-mini",
    title="Small Inception: parallel 1x1/3x3/5x5 branches with 1x1 reduction",
    description="A 3x3 stem, then four Inception modules (two per stage, pooling between) "
    "whose 3x3 and 5x5 branches sit behind 1x1 'reduce' convolutions: the dimensionality "
    "reduction that makes wide multi-scale modules affordable. Global average pooling head.",
    reference="Szegedy et al., 'Going Deeper with Convolutions', CVPR 2015 (GoogLeNet)",
    reported=_BEATS,
    input_shape=(32, 32, 3),
    num_classes=10,
    hyperparameters=_HP,
    recipe="modern",
    check_args=_check_args,
    tags=("modern", "inception", "batchnorm", "conv"),
)
def inception_mini(input_shape, num_classes, l1=0.0, l2=0.0):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = _conv_bn_relu(inputs, 32, name="stem")
    x = _inception_module(x, 16, 24, 32, 4, 8, 8, name="inc1a")
    x = _inception_module(x, 32, 32, 48, 8, 24, 16, name="inc1b")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = _inception_module(x, 48, 48, 64, 8, 24, 24, name="inc2a")
    x = _inception_module(x, 64, 64, 96, 16, 32, 32, name="inc2b")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="drop")(x)
    outputs = classifier_head(x, num_classes)
    return regularize(keras.Model(inputs, outputs, name="inception_mini"), l1, l2)


def _separable_block(x, filters, strides, name):
    from keras import layers

    y = layers.DepthwiseConv2D(
        3, strides=strides, padding="same", use_bias=False, name=f"{name}_dw"
    )(x)
    y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_dw_bn")(y)
    y = layers.ReLU(6.0, name=f"{name}_dw_relu")(y)
    y = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(y)
    y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_pw_bn")(y)
    return layers.ReLU(6.0, name=f"{name}_pw_relu")(y)


@register_model(
    "separable-cnn",
    title="Depthwise-separable CNN (MobileNet-style), with a SeparableConv2D stage",
    description="A strided 3x3 stem, MobileNet blocks (3x3 depthwise + 1x1 pointwise, "
    "BatchNorm, ReLU6) and a final SeparableConv2D stage with a residual connection: "
    "8-9x fewer multiply-adds than plain 3x3 convolutions of the same width.",
    reference="Howard et al., 'MobileNets', 2017; Chollet, 'Xception', CVPR 2017",
    reported=_BEATS,
    input_shape=(32, 32, 3),
    num_classes=10,
    hyperparameters=_HP,
    recipe="modern",
    check_args=_check_args,
    tags=("modern", "separable", "depthwise", "batchnorm", "conv", "mobile"),
)
def separable_cnn(input_shape, num_classes, width=32, l1=0.0, l2=0.0):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = _conv_bn_relu(inputs, width, name="stem")
    x = _separable_block(x, width * 2, 1, name="sep1")
    x = _separable_block(x, width * 4, 2, name="sep2")
    x = _separable_block(x, width * 4, 1, name="sep3")
    x = _separable_block(x, width * 8, 2, name="sep4")
    shortcut = x
    y = layers.SeparableConv2D(width * 8, 3, padding="same", use_bias=False, name="xsep1")(x)
    y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name="xsep1_bn")(y)
    y = layers.ReLU(name="xsep1_relu")(y)
    y = layers.SeparableConv2D(width * 8, 3, padding="same", use_bias=False, name="xsep2")(y)
    y = layers.BatchNormalization(momentum=_BN_MOMENTUM, name="xsep2_bn")(y)
    x = layers.Add(name="xsep_add")([y, shortcut])
    x = layers.ReLU(name="xsep_relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="drop")(x)
    outputs = classifier_head(x, num_classes)
    return regularize(keras.Model(inputs, outputs, name="separable_cnn"), l1, l2)
