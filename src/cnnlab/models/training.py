"""Keras' training loop: compile / fit / evaluate / predict, as a mixin for Model."""

from __future__ import annotations


class TrainingMixin:
    """compile/fit/evaluate/predict for :class:`cnnlab.models.Model` (being written)."""
