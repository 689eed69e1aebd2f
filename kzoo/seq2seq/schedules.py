"""Schedules of the scheduled-sampling probability over training steps (Bengio et al. 2015).

Bengio et al. decay the probability `ε_i` of feeding the reference token at step `i`; a schedule
here returns the complementary probability `p_i = 1 - ε_i` of feeding the model's own prediction,
which rises during training:

- linear: `ε_i = max(ε_min, k - c·i)`;
- exponential: `ε_i = k^i`, `k < 1`;
- inverse sigmoid: `ε_i = k / (k + exp(i / k))`, `k >= 1`.

Reference:
    Bengio, Vinyals, Jaitly, Shazeer (2015), "Scheduled Sampling for Sequence Prediction with
    Recurrent Neural Networks", section 2.4.
"""

import keras
from keras import ops

__all__ = ["SamplingSchedule", "LinearSchedule", "ExponentialSchedule", "InverseSigmoidSchedule", "get"]


def _check(name, value, low=None, high=None, low_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bound = f"{'>' if low_open else '>='} {low}" if low is not None else ""
        bound += f" and <= {high}" if high is not None else ""
        raise ValueError(f"`{name}` must be a number {bound}. Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="kzoo")
class SamplingSchedule:
    """Base: `schedule(step)` is the probability of feeding the model's own prediction.

    Subclasses override `teacher_forcing(step)`, the probability `ε_i` of the reference token.
    `max_probability` caps `p` (Bengio et al. never reach pure self-feeding).
    """

    def __init__(self, max_probability=1.0):
        self.max_probability = _check("max_probability", max_probability, 0.0, 1.0)

    def teacher_forcing(self, step):
        raise NotImplementedError

    def __call__(self, step):
        step = ops.cast(step, "float32")
        return ops.minimum(1.0 - self.teacher_forcing(step), self.max_probability)

    def get_config(self):
        return {"max_probability": self.max_probability}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="kzoo")
class LinearSchedule(SamplingSchedule):
    """`ε_i = max(min_teacher_forcing, 1 - i / decay_steps)`.

    Examples:
        >>> float(LinearSchedule(decay_steps=100)(50))
        0.5
    """

    def __init__(self, decay_steps, min_teacher_forcing=0.0, **kwargs):
        super().__init__(**kwargs)
        self.decay_steps = _check("decay_steps", decay_steps, 0.0, low_open=True)
        self.min_teacher_forcing = _check("min_teacher_forcing", min_teacher_forcing, 0.0, 1.0)

    def teacher_forcing(self, step):
        return ops.maximum(self.min_teacher_forcing, 1.0 - step / self.decay_steps)

    def get_config(self):
        return {**super().get_config(), "decay_steps": self.decay_steps,
                "min_teacher_forcing": self.min_teacher_forcing}


@keras.saving.register_keras_serializable(package="kzoo")
class ExponentialSchedule(SamplingSchedule):
    """`ε_i = k^i` with `0 < k < 1`.

    Examples:
        >>> round(float(ExponentialSchedule(k=0.5)(1)), 4)
        0.5
    """

    def __init__(self, k=0.999, **kwargs):
        super().__init__(**kwargs)
        self.k = _check("k", k, 0.0, 1.0, low_open=True)

    def teacher_forcing(self, step):
        return ops.power(self.k, step)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package="kzoo")
class InverseSigmoidSchedule(SamplingSchedule):
    """`ε_i = k / (k + exp(i / k))` with `k >= 1`.

    Examples:
        >>> round(float(InverseSigmoidSchedule(k=1.0)(0)), 4)
        0.5
    """

    def __init__(self, k=1000.0, **kwargs):
        super().__init__(**kwargs)
        self.k = _check("k", k, 1.0)

    def teacher_forcing(self, step):
        return self.k / (self.k + ops.exp(ops.minimum(step / self.k, 80.0)))  # exp(80) is finite

    def get_config(self):
        return {**super().get_config(), "k": self.k}


_SCHEDULES = {
    "linear": LinearSchedule,
    "exponential": ExponentialSchedule,
    "inverse_sigmoid": InverseSigmoidSchedule,
}


def get(identifier):
    """A schedule from a `SamplingSchedule`, a name, a `{"name": ..., **args}` dict, or None."""
    if identifier is None or isinstance(identifier, SamplingSchedule):
        return identifier
    if isinstance(identifier, str):
        identifier = {"name": identifier}
    if isinstance(identifier, dict) and identifier.get("name") in _SCHEDULES:
        args = {k: v for k, v in identifier.items() if k != "name"}
        if identifier["name"] == "linear":
            args.setdefault("decay_steps", 10000)
        return _SCHEDULES[identifier["name"]](**args)
    raise ValueError(
        f"`scheduled_sampling` must be None, a SamplingSchedule, one of {sorted(_SCHEDULES)} or a "
        f"dict with a 'name' among them. Received: scheduled_sampling={identifier!r}"
    )


def to_config(schedule):
    """The `{"name": ..., **args}` form accepted by `get` (None stays None)."""
    if schedule is None:
        return None
    name = {v: k for k, v in _SCHEDULES.items()}[type(schedule)]
    return {"name": name, **schedule.get_config()}
