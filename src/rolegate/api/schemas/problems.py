"""Problem details (RFC 9457): the body of every error."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Problem", "ProblemError", "ProblemViolation"]


class ProblemViolation(BaseModel):
    rule: str | None = Field(
        description="The workspace's product's own seed rule that refused, e.g. `T9`; null "
        "where its article has none (then `code` names the product-neutral rule)."
    )
    code: str = Field(
        default="", description="The refusing rule: the seed rule id, or a product-neutral code (`role_in_use`, `form`)."
    )
    message: str
    fix: str = Field(description="What to do instead.")


class ProblemError(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. `["body", "checks", 3, "action"]`.')
    msg: str
    hint: str = ""


class Problem(BaseModel):
    """An error (RFC 9457 problem details); `docs/errors.md` lists every `code`."""

    type: str = Field(description="`https://rolegate.dev/problems/<code>`: stable, match on it (or on `code`).")
    code: str = Field(description="The stable error code, e.g. `rule_violation`.")
    title: str
    status: int
    detail: str = Field(description="What went wrong and what to do.")
    rule: str | None = Field(
        default=None,
        description="The first violation's seed rule (the workspace's own product's), e.g. `N7`; "
        "null when no seed rule refused.",
    )
    violations: list[ProblemViolation] = Field(default_factory=list)
    errors: list[ProblemError] = Field(default_factory=list)
