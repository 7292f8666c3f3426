"""Discriminative learning rates on a plain Keras optimizer: the variables of one group (a
fine-tuned backbone) learn at ``multiplier`` times the optimizer's rate, and not at all for
the first ``frozen_steps`` steps (fine-tuning's phase 1); decoupled weight decay at each
variable's own rate, none on biases and normalisation scales.

Keras optimizers have one learning rate. Rather than a custom optimizer class (which a
checkpoint would name, so plain ``keras.models.load_model`` could not open it), the
optimizer instance's ``update_step`` is wrapped: the class stays Keras's own, the
checkpoint stays plain, and cnntui wraps the optimizer again when it resumes a run. The
phase is read from the optimizer's own step counter, so a resume continues it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

NO_DECAY = ("bias", "gamma", "beta")  # no weight decay on biases and normalisation layers


def decays(variable: Any, no_decay: Iterable[str] = NO_DECAY) -> bool:
    """Whether weight decay applies to ``variable``: its name holds none of ``no_decay``
    (Keras's own rule for ``exclude_from_weight_decay(var_names=...)``)."""
    return not any(n in variable.name for n in no_decay)


def use_group_rates(
    optimizer: Any,
    slow: Iterable[Any],
    multiplier: float,
    *,
    frozen_steps: int = 0,
    weight_decay: float | None = None,
) -> Any:
    """Make ``optimizer`` train the ``slow`` variables at ``multiplier`` times its learning
    rate, and not during its first ``frozen_steps`` steps; apply ``weight_decay`` (the
    optimizer's own must be 0 or None) to every variable but biases and norms, at the rate the
    variable learns at. Returns ``optimizer``; built or not, any backend: Keras calls
    ``self.update_step(gradient, variable, learning_rate)`` per variable, and
    ``_get_variable_index`` gives its place among the trainable variables."""
    if optimizer.weight_decay:
        raise ValueError("use_group_rates applies the weight decay: give the optimizer 0")
    slow_ids = {id(v) for v in slow}
    base_step = optimizer.update_step
    plan: list[tuple[bool, bool]] = []

    def update_step(gradient: Any, variable: Any, learning_rate: Any) -> Any:
        from keras import ops

        if not plan:  # the trainable variables are known once the optimizer is built
            plan.extend((id(v) in slow_ids, decays(v)) for v in optimizer._trainable_variables)
        is_slow, decayed = plan[optimizer._get_variable_index(variable)]
        rate = ops.cast(learning_rate, variable.dtype)
        if is_slow:
            thawed = ops.cast(ops.greater_equal(optimizer.iterations, frozen_steps), rate.dtype)
            rate = ops.multiply(rate, ops.multiply(thawed, multiplier))
        if weight_decay and decayed:
            optimizer.assign_sub(variable, ops.multiply(variable, ops.multiply(weight_decay, rate)))
        return base_step(gradient, variable, rate)

    optimizer.update_step = update_step
    return optimizer
