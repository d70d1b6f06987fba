"""Keras's ``keras.models`` namespace: ``Model`` (functional, ``minicnn.model``),
``Sequential`` (``minicnn.sequential``) and ``load_model`` (``minicnn.saving``).

Registering both classes here lets ``saving.load_model`` rebuild them by name without
importing this module (``saving`` never imports the models)."""

from . import missing, saving
from .keras_files import model_from_json
from .model import Model
from .saving import load_model
from .sequential import Sequential

saving.MODEL_CLASSES.register(Sequential)
saving.MODEL_CLASSES.register(Model, "Functional")

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]

# A Keras name minicnn lacks says so (see minicnn.missing).
__getattr__ = missing.reporter(__name__, globals())
