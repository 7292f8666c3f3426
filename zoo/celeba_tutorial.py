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
        note="article: four conv/pool blocks at CelebA's native 218x178, final maps 128 x "
        "12x14 (width x height; Keras shape 14, 12, 128), global average pooling; up to 30 "
        "epochs with early stopping, judged by test-set accuracy 0.95",
        needs="a CelebA gender folder DIR/{train,val,test}/<female|male>/...",
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
    choices="3x3 same-padded kernels; pool 2 (same); batch 32; early-stopping patience 5 "
    "on val_loss (the article's patience is not known here).",
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
