"""YAML files and command-line values into pydantic models, with one way of reporting what is wrong.

Every mistake becomes one ConfigError line naming where it is (a file, or a flag) and the key:
`conf/recipes/bad.yaml: rules[2].min: Input should be a valid number` or, for a key the model does
not have, `conf/benchmark/x.yaml: dedup.band: unknown key; allowed: enabled, num_perm, ...`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cc_sieve.jobs.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def read_yaml_mapping(path: Path, expected: str) -> dict[str, Any]:
    """The top-level mapping of a YAML file; `expected` says what it should hold, for the error."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with {expected} at the top level")
    return raw


def validate(model: type[Model], data: dict[str, Any], where: str) -> Model:
    """`model` validated from `data`; the first problem as a ConfigError prefixed by `where`."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{where}: {describe(model, error)}") from None


def load_model(model: type[Model], path: Path, expected: str, extra: dict[str, Any] | None = None) -> Model:
    """A YAML file validated as `model` (with `extra` fields added, e.g. the file's own path)."""
    return validate(model, {**read_yaml_mapping(path, expected), **(extra or {})}, str(path))


def key_path(loc: Iterable[Any]) -> str:
    """pydantic's error location as the reader writes it: `rules[2].min`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def describe(model: type[BaseModel], error: ValidationError) -> str:
    """`key: message` of the first error, '; N more' when there are others."""
    errors = error.errors()
    first = errors[0]
    message = first["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if first["type"] == "extra_forbidden":
        parent = model_at(model, first["loc"][:-1])
        allowed = [name for name, field in parent.model_fields.items() if not field.exclude] if parent else []
        message = f"unknown key; allowed: {', '.join(allowed)}" if allowed else "unknown key"
    more = f"; {len(errors) - 1} more" if len(errors) > 1 else ""
    return f"{key_path(first['loc'])}: {message}{more}"


def model_at(model: type[BaseModel], loc: Iterable[Any]) -> type[BaseModel] | None:
    """The nested model a location points into (list indexes skipped), if the path leads to one."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None
        if field is None:
            return None
        current = nested_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def nested_model(annotation: Any) -> Any:
    """The BaseModel inside `X`, `list[X]` or `X | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = nested_model(argument)
        if found is not None:
            return found
    return None


def validate_flags(model: type[Model], data: dict[str, Any], flags: dict[str, str] | None = None) -> Model:
    """`model` validated from command-line values; a problem names the flag (`--limit: ...`): `flags` maps a
    field to its flag where the two names differ."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        names = [part for part in first["loc"] if isinstance(part, str)]
        field = names[-1] if names else ""
        flag = (flags or {}).get(field) or "--" + field.replace("_", "-")
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{flag}: {message}") from None
