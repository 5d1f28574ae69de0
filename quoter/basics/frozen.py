"""The base of every configuration model: immutable, unknown keys refused, numbers strict."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from quoter.basics.strict import strict_problem


class Frozen(BaseModel):
    """Base of every configuration model: immutable, unknown keys refused, numbers strict (no
    "5" for 5, no true for 1, no inf or nan: a limit written as text or as infinity is a typo,
    not a wish)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _strict(cls, value: object, info: ValidationInfo) -> object:
        field = cls.model_fields.get(info.field_name or "")
        problem = None if field is None else strict_problem(field.annotation, value)
        if problem is not None:
            # The text as context, not in the template: a user's braces are not a format.
            raise PydanticCustomError("strict", "{problem}", {"problem": problem})
        return value
