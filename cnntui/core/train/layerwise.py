"""Discriminative learning rates on a plain Keras optimizer: the variables of one group (a
fine-tuned backbone) learn at ``multiplier`` times the optimizer's rate, weight decay
included; no weight decay on biases and normalisation scales.

Keras optimizers have one learning rate. Rather than a custom optimizer class (which a
checkpoint would name, so plain ``keras.models.load_model`` could not open it), the
optimizer instance's ``update_step`` is wrapped: the class stays Keras's own, the
checkpoint stays plain, and cnntui wraps the optimizer again when it resumes a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cnntui.core.train.finetune import NO_DECAY


def decays(variable: Any, no_decay: Iterable[str] = NO_DECAY) -> bool:
    """Whether weight decay applies to ``variable``: its name holds none of ``no_decay``
    (Keras's own rule for ``exclude_from_weight_decay(var_names=...)``)."""
    return not any(n in variable.name for n in no_decay)


def use_group_rates(optimizer: Any, slow: Iterable[Any], multiplier: float) -> Any:
    """Make ``optimizer`` (not yet built) train the ``slow`` variables at ``multiplier``
    times its learning rate and decay them at that rate too; returns it.

    Works on every backend: Keras's optimizers call ``self.update_step(gradient, variable,
    learning_rate)`` for each variable, and ``_get_variable_index`` maps it to its place.
    """
    slow = list(slow)
    slow_ids = {id(v) for v in slow}
    scaled = multiplier != 1.0 and bool(slow_ids)
    decay = optimizer.weight_decay
    # one call: Keras keeps the names of the last call only; the slow group's decay is
    # applied below, at its own rate
    optimizer.exclude_from_weight_decay(
        var_list=slow if scaled and decay else None, var_names=list(NO_DECAY)
    )
    if not scaled:
        return optimizer
    base_step = optimizer.update_step
    plan: list[tuple[bool, bool]] = []

    def update_step(gradient: Any, variable: Any, learning_rate: Any) -> Any:
        if not plan:  # the trainable variables are known once the optimizer is built
            plan.extend((id(v) in slow_ids, decays(v)) for v in optimizer._trainable_variables)
        is_slow, decayed = plan[optimizer._get_variable_index(variable)]
        if not is_slow:
            return base_step(gradient, variable, learning_rate)
        from keras import ops

        rate = ops.multiply(ops.cast(learning_rate, variable.dtype), multiplier)
        if decay and decayed:
            optimizer.assign_sub(variable, ops.multiply(variable, ops.multiply(decay, rate)))
        return base_step(gradient, variable, rate)

    optimizer.update_step = update_step
    return optimizer
