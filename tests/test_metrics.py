"""The classifier maths against small cases worked out by hand (numbers in comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cnntui.core.judge import metrics

# 6 examples, 3 classes.  true: 0 0 1 1 2 2   predicted: 0 1 1 1 2 0
Y_TRUE = np.array([0, 0, 1, 1, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0])


def test_confusion_matrix_rows_are_true_classes():
    cm = metrics.confusion_matrix(Y_TRUE, Y_PRED, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert metrics.row_normalise(cm).tolist() == [[0.5, 0.5, 0], [0, 1, 0], [0.5, 0, 0.5]]


def test_row_normalise_leaves_an_empty_row_at_zero():
    cm = np.array([[0, 0], [1, 3]])
    assert metrics.row_normalise(cm).tolist() == [[0, 0], [0.25, 0.75]]


def test_per_class_table_by_hand():
    table = metrics.per_class(metrics.confusion_matrix(Y_TRUE, Y_PRED, 3))
    # class 0: tp 1 fp 1 fn 1 tn 3   class 1: tp 2 fp 1 fn 0 tn 3   class 2: tp 1 fp 0 fn 1 tn 4
    np.testing.assert_allclose(table["precision"], [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(table["recall"], [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(table["specificity"], [3 / 4, 3 / 4, 1])
    np.testing.assert_allclose(table["f1"], [1 / 2, 4 / 5, 2 / 3])
    np.testing.assert_allclose(
        table["geometric_mean"], [math.sqrt(3 / 8), math.sqrt(3 / 4), math.sqrt(1 / 2)]
    )
    # iba = (1 + 0.1 (recall - specificity)) * recall * specificity
    np.testing.assert_allclose(table["iba"], [0.975 * 3 / 8, 1.025 * 3 / 4, 0.95 * 1 / 2])
    assert table["support"].tolist() == [2, 2, 2]


def test_averages_macro_and_weighted():
    # unequal supports: true 0 0 0 1, predicted 0 0 1 1
    table = metrics.per_class(metrics.confusion_matrix([0, 0, 0, 1], [0, 0, 1, 1], 2))
    # precision: class 0 = 2/2 = 1, class 1 = 1/2; recall: 2/3 and 1
    avg = metrics.averages(table)
    assert avg["macro"]["precision"] == pytest.approx((1 + 0.5) / 2)
    assert avg["weighted"]["precision"] == pytest.approx((3 * 1 + 1 * 0.5) / 4)
    assert avg["macro"]["recall"] == pytest.approx((2 / 3 + 1) / 2)
    assert avg["weighted"]["recall"] == pytest.approx((3 * 2 / 3 + 1) / 4)
    assert avg["macro"]["support"] == 4


def test_undefined_precision_counts_as_zero():
    # class 1 is never predicted: precision 0/0 -> 0, F1 -> 0
    table = metrics.per_class(metrics.confusion_matrix([0, 1], [0, 0], 2))
    assert table["precision"].tolist() == [0.5, 0.0]
    assert table["f1"][1] == 0.0


def test_roc_auc_by_pairs():
    # positives 0.35, 0.8 vs negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3/4
    assert metrics.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)


def test_roc_auc_ties_count_half():
    # positives 0.5, 0.9 vs negatives 0.5, 0.5: 0.5 + 0.5 + 1 + 1 = 3 of 4 pairs
    assert metrics.roc_auc([0.5, 0.5, 0.5, 0.9], [0, 1, 0, 1]) == pytest.approx(0.75)


def test_roc_auc_undefined_without_both_sides():
    assert metrics.roc_auc([0.2, 0.7], [1, 1]) is None


def test_roc_auc_one_vs_rest():
    probs = np.array([[0.8, 0.1, 0.1], [0.3, 0.6, 0.1], [0.2, 0.2, 0.6], [0.5, 0.4, 0.1]])
    y = np.array([0, 1, 2, 1])
    aucs = metrics.roc_auc_ovr(y, probs)
    # class 0: positive 0.8 beats 0.3, 0.2, 0.5 -> 1.0
    # class 1: positives 0.6, 0.4 vs negatives 0.1, 0.2 -> 1.0
    # class 2: positive 0.6 beats all 0.1 -> 1.0 ; then flip one score to break it
    assert aucs == [1.0, 1.0, 1.0]
    probs[3, 0] = 0.9  # now the 0.8 positive loses to a 0.9 negative: 2 of 3 pairs
    assert metrics.roc_auc_ovr(y, probs)[0] == pytest.approx(2 / 3)


def test_top_k_accuracy():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]])
    y = np.array([1, 0, 2])
    assert metrics.top_k_accuracy(y, probs, 1) == 0.0
    # top-2: {0,1} has 1 (yes); {2,1} lacks 0; {1,0} (tie goes to index 0) lacks 2
    assert metrics.top_k_accuracy(y, probs, 2) == pytest.approx(1 / 3)
    assert metrics.top_k_accuracy(y, probs, 3) == 1.0


def test_cross_entropy_and_clipping():
    probs = np.array([[0.25, 0.75], [1.0, 0.0]])
    losses = metrics.cross_entropy(np.array([1, 1]), probs)
    assert losses[0] == pytest.approx(-math.log(0.75))
    assert losses[1] == pytest.approx(-math.log(1e-7))


def test_pearson_by_hand():
    # dx = -1.5 -.5 .5 1.5, dy = -.5 -.5 .5 .5: sum dx*dy = 2, |dx|^2 = 5, |dy|^2 = 1
    assert metrics.pearson([1, 2, 3, 4], [0, 0, 1, 1]) == pytest.approx(2 / math.sqrt(5))
    assert metrics.pearson([1, 1, 1], [0, 1, 0]) is None


def test_threshold_sweep_and_best():
    scores = np.array([0.2, 0.6, 0.4, 0.9])
    positive = np.array([False, True, False, True])
    sweep = metrics.threshold_sweep(scores, positive, np.array([0.3, 0.5, 0.7]))
    low, mid, high = sweep
    # t=0.3 predicts F T T T: tp 2 fp 1 -> accuracy 3/4, precision 2/3, recall 1
    assert (low["accuracy"], low["precision"], low["recall"]) == (0.75, 2 / 3, 1.0)
    assert low["f1"] == pytest.approx(0.8)
    assert (mid["accuracy"], mid["tp"], mid["tn"]) == (1.0, 2, 2)
    # t=0.7 predicts F F F T: recall 1/2
    assert (high["accuracy"], high["recall"]) == (0.75, 0.5)
    assert metrics.best_threshold(sweep)["threshold"] == 0.5
    default = metrics.threshold_sweep(scores, positive)
    assert [r["threshold"] for r in default][:3] == [0.05, 0.1, 0.15] and len(default) == 19


def test_most_confused_and_highest_loss():
    cm = np.array([[5, 3, 0], [1, 4, 0], [0, 3, 2]])
    pairs = metrics.most_confused(cm, limit=2)
    # (0->1) 3 of 8 and (2->1) 3 of 5 tie on count: lower true class first
    assert [(p["true"], p["predicted"], p["count"]) for p in pairs] == [(0, 1, 3), (2, 1, 3)]
    assert pairs[1]["rate"] == pytest.approx(0.6)
    assert metrics.highest_loss(np.array([0.1, 2.0, 0.5, 3.0]), limit=2).tolist() == [3, 1]


def test_squared_error_for_sigmoid_and_softmax_heads():
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    y = np.array([1, 0])
    # sigmoid head: (1 - 0.8)^2 = 0.04 and (0 - 0.4)^2 = 0.16
    np.testing.assert_allclose(metrics.squared_error(y, probs, binary=True), [0.04, 0.16])
    # softmax head: mean over [(0 - .2)^2, (1 - .8)^2] = 0.04 and [(1-.6)^2, (0-.4)^2] = 0.16
    np.testing.assert_allclose(metrics.squared_error(y, probs), [0.04, 0.16])
    three = np.array([[0.5, 0.3, 0.2]])
    # one-hot [0, 1, 0]: (.25 + .49 + .04) / 3 = 0.26
    np.testing.assert_allclose(metrics.squared_error([1], three), [0.26])
    assert metrics.example_losses("mse", y, probs, True)[0] == "mean_squared_error"
    assert metrics.example_losses("hinge", y, probs)[0] == "crossentropy"
