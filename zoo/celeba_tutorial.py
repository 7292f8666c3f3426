"""The CelebA gender tutorial: four conv/pool blocks, global average pooling, a small head."""

from cnntui.core.registry import Hyperparameters, Reported, register_model
from cnntui.core.zoo_layers import classifier_head, image_input


@register_model(
    "celeba-gap",
    title="Four conv/pool blocks + global average pooling (CelebA gender)",
    description="Conv2D 16 -> 32 -> 64 -> 128 (3x3, relu), each followed by MaxPooling2D, "
    "then GlobalAveragePooling2D -> Dense 64 relu -> BatchNormalization -> Dense sigmoid "
    "(one unit for two classes; softmax otherwise).",
    reference="Keras CelebA gender-classification tutorial (image folders train/val/test)",
    reported=Reported(
        dataset="CelebA (gender)",
        metric="test_accuracy",
        value=0.95,
        epochs=30,
        figures={"val_accuracy_peak": 0.95},
        note="article: CelebA headshots in train/val/test folders (32,000 / 8,000 / 1,000), "
        "four conv/pool blocks, final maps 128 of 12x14 (width x height; Keras shape 14, 12, "
        "128), global average pooling; Adam, binary cross-entropy, 'an arbitrary 30 "
        "epochs' with EarlyStopping and ModelCheckpoint; validation accuracy peaked at 95%, "
        "test accuracy 95% on the 1,000 test images",
        not_stated=(
            "early-stopping patience",
            "monitor",
            "batch size",
            "learning rate",
            "padding",
            "input size",
        ),
        needs="a CelebA gender folder DIR/{train,val,test}/<female|male>/... (the article: "
        "32,000 / 8,000 / 1,000)",
        patience=5,
    ),
    input_shape=(218, 178, 3),
    num_classes=2,
    hyperparameters=Hyperparameters(
        optimizer="adam",
        learning_rate=1e-3,
        loss="binary_crossentropy",
        batch_size=32,
        epochs=30,
    ),
    tags=("tutorial", "celeba", "faces", "binary", "conv", "gap"),
    choices="early-stopping patience and monitor: not stated, 5 epochs on val_loss (best "
    "weights restored); batch size: not stated, 32; learning rate: not stated, Adam's "
    "default 1e-3; pixel scaling: not stated, /255; padding and input size: not stated, "
    "same padding on the convolutions and the 2x2 poolings at CelebA's native 218x178, the "
    "one reading that gives the article's 12x14 final maps (valid padding gives 9x11).",
)
def celeba_gap(input_shape, num_classes):
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = inputs
    for i, filters in enumerate((16, 32, 64, 128), start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{i}")(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool{i}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(64, activation="relu", name="dense1")(x)
    x = layers.BatchNormalization(name="bn")(x)
    outputs = classifier_head(x, num_classes, binary=True)
    return keras.Model(inputs, outputs, name="celeba_gap")
