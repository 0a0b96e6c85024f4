"""A participant's local learning, loaded by reference and made a :class:`~fedchain.client.api.Client`.

:func:`load_object` imports ``"package.module:attribute"`` the way Flower loads a ``ClientApp`` (the current
directory goes on the Python path first), and :func:`as_client` adapts what it finds: a Flower ``ClientApp``
or anything with a ``NumPyClient``'s methods.
"""

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Final, cast

from fedchain.client.api import Client
from fedchain.client.errors import ClientError
from fedchain.client.flower import ClientAppAdapter, NumPyClientAdapter, is_client_app

NUMPY_CLIENT_METHODS: Final = ("get_parameters", "fit", "evaluate")
"""The methods that make an object a Flower ``NumPyClient`` for fedchain."""

REFERENCE_FORM: Final = "'package.module:attribute' (e.g. 'examples.flower_app.client_app:app')"


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _split(path: str, what: str) -> tuple[str, str]:
    """The module and attribute parts of ``path``, or a ClientError saying what form it must have."""
    module_name, colon, attribute = path.partition(":")
    if not colon or not _is_dotted_name(module_name) or not _is_dotted_name(attribute):
        raise ClientError(f"the {what} {path!r} must have the form {REFERENCE_FORM}")
    return module_name, attribute


def _ensure_cwd_on_path() -> None:
    """Put the current directory first on ``sys.path`` unless it is there, as Flower's app loader does."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _import(module_name: str, path: str, what: str) -> ModuleType:
    """Import ``module_name``; tell a missing module from a module that fails to import."""
    _ensure_cwd_on_path()
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(f"{missing}."):
            raise ClientError(f"cannot load the {what} {path!r}: there is no module {missing!r} "
                              f"(run from the folder that holds it, or put that folder on PYTHONPATH)") from exc
        raise ClientError(f"cannot load the {what} {path!r}: importing {module_name!r} failed: "
                          f"{type(exc).__name__}: {_one_line(exc)}") from exc
    except Exception as exc:  # whatever the module raises while it runs
        raise ClientError(f"cannot load the {what} {path!r}: importing {module_name!r} failed: "
                          f"{type(exc).__name__}: {_one_line(exc)}") from exc


def load_object(path: str, what: str) -> object:
    """The object that ``path`` (``"package.module:attribute"``, the attribute possibly dotted) names.

    ``what`` says what the object is for (e.g. ``"client app"``) in the :class:`ClientError` raised when
    ``path`` is malformed, its module does not exist or fails to import (with the real cause), or the
    attribute is missing. The current directory is put on ``sys.path`` first, as ``flwr`` does.
    """
    module_name, attribute = _split(path, what)
    found: object = _import(module_name, path, what)
    parts = attribute.split(".")
    for depth, part in enumerate(parts):
        if not hasattr(found, part):
            owner = f"module {module_name!r}" if depth == 0 else repr(f"{module_name}:{'.'.join(parts[:depth])}")
            raise ClientError(f"cannot load the {what} {path!r}: {owner} has no attribute {part!r}")
        found = getattr(found, part)
    return found


def _is_legacy_flower_client(obj: object) -> bool:
    """Whether ``obj`` is a legacy ``flwr.client.Client`` (e.g. from ``NumPyClient.to_client()``)."""
    module = sys.modules.get("flwr.compat.client.client")
    return module is not None and isinstance(obj, module.Client)


def as_client(
    obj: object,
    *,
    hospital: int,
    hospitals: int,
    run_config: Mapping[str, bool | float | int | str] | None = None,
    array_names: Sequence[str] | None = None,
) -> Client:
    """``obj`` as a fedchain :class:`Client`.

    A Flower ``ClientApp`` becomes a :class:`ClientAppAdapter` for partition ``hospital`` of ``hospitals``
    with ``run_config`` and ``array_names`` (which only a ClientApp uses); an object with a ``NumPyClient``'s
    three methods (a Flower ``NumPyClient``, fedchain's ``TorchTrainer``, any duck-typed object) becomes a
    :class:`NumPyClientAdapter`; an adapter is returned as it is. A legacy Flower ``Client``, a class and
    anything else are a :class:`ClientError` naming the type.
    """
    if isinstance(obj, NumPyClientAdapter | ClientAppAdapter):
        return obj
    if is_client_app(obj):
        return ClientAppAdapter(obj, hospital=hospital, hospitals=hospitals, run_config=run_config,
                                array_names=array_names)
    if _is_legacy_flower_client(obj):
        raise ClientError(f"{type(obj).__name__} is a Flower Client (as NumPyClient.to_client() returns): "
                          "pass the NumPyClient itself, or a ClientApp")
    if isinstance(obj, type):
        raise ClientError(f"{obj.__name__} is a class: pass an instance of it, or a Flower ClientApp")
    if all(callable(getattr(obj, method, None)) for method in NUMPY_CLIENT_METHODS):
        return NumPyClientAdapter(cast(Client, obj))
    raise ClientError(f"cannot use a {type(obj).__name__} as a client: expected a Flower ClientApp or an object "
                      f"with a NumPyClient's {', '.join(NUMPY_CLIENT_METHODS)} methods")
