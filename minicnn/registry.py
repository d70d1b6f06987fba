"""One mechanism for every family of named things: layers, losses, metrics, optimizers,
initializers and activations (Keras's ``get`` / ``serialize`` / ``deserialize``).

Each family module keeps one ``Registry``; a class or function is registered once, under
its own name and Keras's aliases (``"mse"`` for ``MeanSquaredError``). ``deserialize``
only ever constructs a registered class, from a plain ``{"class_name", "config"}`` dict,
so a (possibly hostile) config can never name its way to arbitrary code.
"""

from __future__ import annotations

from collections.abc import Callable


class Configurable:
    """What the classes of every family share: ``get_config()`` gives the constructor's
    arguments and ``from_config`` rebuilds an equal object from them."""

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={getattr(self, 'name', None)!r}>"


class Registry:
    """The registered members of one family.

    Parameters
    ----------
    module : the family's module as users see it (``"losses"``), for messages.
    family : the singular noun (``"loss"``): "Could not interpret loss identifier".
    ignore_case : match names case-insensitively (Keras does for optimizers).
    """

    def __init__(self, module: str, family: str, ignore_case: bool = False):
        self.module = module
        self.family = family
        self.ignore_case = ignore_case
        self.entries: dict[str, object] = {}  # identifier -> class or function
        self.classes: dict[str, type] = {}  # class name -> what deserialize may build

    def _key(self, name: str) -> str:
        return name.lower() if self.ignore_case else name

    def register(self, obj, *aliases: str):
        """Register ``obj`` (a class or function) under ``obj.__name__`` and ``aliases``;
        returns ``obj``, so it works as a decorator."""
        if isinstance(obj, type):
            self.classes[self._key(obj.__name__)] = obj
        for name in (obj.__name__, *aliases):
            self.entries[self._key(name)] = obj
        return obj

    def lookup(self, name):
        """The class or function registered as ``name``, or None."""
        return self.entries.get(self._key(name)) if isinstance(name, str) else None

    def names(self) -> list[str]:
        return sorted(self.entries)

    def name_of(self, obj) -> str | None:
        """The name ``obj`` was registered under (its own), or None if it is not registered."""
        name = getattr(obj, "__name__", None)
        return name if isinstance(name, str) and self.lookup(name) is obj else None

    def unknown(self, identifier, expected: str = "", argument: str | None = None) -> ValueError:
        """The error for an identifier nothing in the family answers to; ``argument`` names
        the constructor argument it was given as (``kernel_initializer``)."""
        subject = (
            f"`{argument}`={identifier!r:.200}"
            if argument
            else f"{self.family} identifier: {identifier!r:.200}"
        )
        return ValueError(
            f"Could not interpret {subject}. Expected "
            f"{expected}one of {self.names()}"
            + (" (case-insensitive)." if self.ignore_case else ".")
        )

    def get(
        self,
        identifier,
        base: type | None = None,
        make: Callable | None = None,
        wrap: Callable | None = None,
        expected: str = "",
        argument: str | None = None,
    ):
        """The common part of every family's ``get``.

        An instance of ``base`` is returned as it is; a dict is deserialized; a name is
        looked up and passed to ``make(entry, name)`` (default: a class is instantiated, a
        function returned); a subclass of ``base`` is instantiated; any other callable goes
        to ``wrap`` when the family wraps functions. Anything else is a ValueError listing
        the names.
        """
        if base is not None and isinstance(identifier, base):
            return identifier
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        entry = self.lookup(identifier)
        if entry is not None:
            if make is not None:
                return make(entry, identifier)
            return entry() if isinstance(entry, type) else entry
        if isinstance(identifier, type):
            if base is not None and issubclass(identifier, base) and identifier is not base:
                return identifier()
        elif wrap is not None and callable(identifier) and not isinstance(identifier, str):
            return wrap(identifier)
        raise self.unknown(identifier, expected, argument)

    def serialize(self, obj) -> dict:
        """``{"class_name", "config"}`` for an instance of a registered class; a TypeError for
        anything ``deserialize`` could not rebuild (a subclass, a custom object)."""
        if self.classes.get(self._key(type(obj).__name__)) is not type(obj):
            raise TypeError(
                f"{self.module}.serialize: cannot serialize {obj!r:.100}; expected an instance "
                f"of one of {sorted(c.__name__ for c in self.classes.values())}."
            )
        return {"class_name": type(obj).__name__, "config": obj.get_config()}

    def deserialize(self, config):
        """``cls.from_config(config["config"])`` for the registered class named by
        ``config["class_name"]``; anything else is a ValueError naming the module."""
        if not isinstance(config, dict) or set(config) != {"class_name", "config"}:
            raise ValueError(
                f"{self.module}.deserialize: expected a dict with keys 'class_name' and "
                f"'config'. Received: {config!r:.200}"
            )
        name = config["class_name"]
        cls = self.classes.get(self._key(name)) if isinstance(name, str) else None
        if cls is None or not isinstance(config["config"], dict):
            raise ValueError(
                f"{self.module}.deserialize: unknown class {name!r:.100}; expected one of "
                f"{sorted(c.__name__ for c in self.classes.values())} with a dict config."
            )
        try:
            return cls.from_config(config["config"])
        except TypeError as err:
            raise ValueError(
                f"{self.module}.deserialize: bad config for {cls.__name__}: {err}"
            ) from None
