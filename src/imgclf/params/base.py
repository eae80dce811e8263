"""What every section of the schema is made of: strict, immutable sections and shared types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Rate = Annotated[float, Field(ge=0.0, lt=1.0)]
# A model's name: it becomes a folder, a DVC stage name and an MLflow run name.
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_unique(names: list[str], where: str) -> None:
    """Stop on the first name given twice."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate name {name!r} in {where}")
        seen.add(name)
