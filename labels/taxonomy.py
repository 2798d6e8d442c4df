"""Typed loader for ``taxonomy.yaml``.

Every other layer asks this module for labels so that adding a label means editing the YAML and the data,
never code. The model folder stores a snapshot (``to_dict``) so a served model keeps the taxonomy it was
trained with even after the YAML moves on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KINDS = ("claim", "counter", "framing")
DEFAULT_PATH = Path(__file__).with_name("taxonomy.yaml")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """The taxonomy file is malformed; the message names the label and field."""


@dataclass(frozen=True)
class Label:
    id: str
    kind: str
    name: str
    description: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "include": list(self.include),
            "exclude": list(self.exclude),
        }


@dataclass(frozen=True)
class Taxonomy:
    labels: tuple[Label, ...]
    name: str = "taxonomy"
    version: int = 1
    kind_descriptions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.labels:
            raise TaxonomyError("taxonomy has no labels")
        seen: set[str] = set()
        for position, label in enumerate(self.labels):
            where = f"labels[{position}] ({label.id!r})"
            if not _ID_RE.match(label.id):
                raise TaxonomyError(f"{where}: id must be lowercase snake_case, got {label.id!r}")
            if label.id in seen:
                raise TaxonomyError(f"{where}: duplicate id {label.id!r}")
            seen.add(label.id)
            if label.kind not in KINDS:
                raise TaxonomyError(f"{where}: kind {label.kind!r} is not one of {', '.join(KINDS)}")
            if not label.name.strip():
                raise TaxonomyError(f"{where}: empty name")
            if not label.description.strip():
                raise TaxonomyError(f"{where}: empty description")

    @property
    def ids(self) -> list[str]:
        return [label.id for label in self.labels]

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label_id: object) -> bool:
        return label_id in self.ids

    def get(self, label_id: str) -> Label:
        for label in self.labels:
            if label.id == label_id:
                return label
        raise KeyError(f"unknown label {label_id!r}; known: {', '.join(self.ids)}")

    def ids_of_kind(self, kind: str) -> list[str]:
        if kind not in KINDS:
            raise TaxonomyError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        return [label.id for label in self.labels if label.kind == kind]

    def kind_of(self, label_id: str) -> str:
        return self.get(label_id).kind

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kinds": dict(self.kind_descriptions),
            "labels": [label.to_dict() for label in self.labels],
        }

    @classmethod
    def from_dict(cls, raw: Any, source: str = "<dict>") -> Taxonomy:
        if not isinstance(raw, dict):
            raise TaxonomyError(f"{source}: top level must be a mapping")
        unknown = set(raw) - {"name", "version", "kinds", "labels"}
        if unknown:
            raise TaxonomyError(f"{source}: unknown top-level keys {sorted(unknown)}")
        items = raw.get("labels")
        if not isinstance(items, list):
            raise TaxonomyError(f"{source}: 'labels' must be a list")
        labels = []
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                raise TaxonomyError(f"{source}: labels[{position}] must be a mapping")
            extra = set(item) - {"id", "kind", "name", "description", "include", "exclude"}
            if extra:
                raise TaxonomyError(f"{source}: labels[{position}] has unknown keys {sorted(extra)}")
            missing = {"id", "kind", "name", "description"} - set(item)
            if missing:
                raise TaxonomyError(f"{source}: labels[{position}] is missing {sorted(missing)}")
            labels.append(
                Label(
                    id=str(item["id"]),
                    kind=str(item["kind"]),
                    name=str(item["name"]),
                    description=str(item["description"]),
                    include=tuple(str(x) for x in item.get("include") or ()),
                    exclude=tuple(str(x) for x in item.get("exclude") or ()),
                )
            )
        try:
            return cls(
                labels=tuple(labels),
                name=str(raw.get("name", "taxonomy")),
                version=int(raw.get("version", 1)),
                kind_descriptions={str(k): str(v) for k, v in (raw.get("kinds") or {}).items()},
            )
        except TaxonomyError as exc:
            raise TaxonomyError(f"{source}: {exc}") from None


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file (the packaged default when ``path`` is None).

    Read afresh on every call: the file is small, and a process-wide cache would hide a researcher's edit
    from a long-lived process (a notebook, the service's reload) without any sign.
    """
    source = str(Path(path) if path else DEFAULT_PATH)
    with open(source, encoding="utf-8") as handle:
        return Taxonomy.from_dict(yaml.safe_load(handle), source=source)
