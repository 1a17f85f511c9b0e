"""A denial on a record the member may not even see is a HiddenRecordError: answered
as not found (its existence is not revealed), yet it still carries the decision."""

from __future__ import annotations

import pytest

from rolegate.domain.errors import HiddenRecordError, NotFoundError, PermissionDeniedError
from rolegate.engine import ReasonCode, Snapshot
from tests.unit.engine.conftest import B, U


def test_require_on_a_record_the_member_cannot_see_is_a_hidden_record(snap: Snapshot) -> None:
    with pytest.raises(HiddenRecordError) as info:
        snap.require("ann", "accounts.update", B)
    hidden = info.value
    assert isinstance(hidden, NotFoundError)
    assert (hidden.status, hidden.code.value) == (404, "not_found")
    assert not snap.check("ann", "accounts.update", B).allowed
    assert hidden.decision == snap.check("ann", "accounts.update", B)
    assert hidden.decision.reasons[-1].code in {ReasonCode.RECORD_OUT_OF_SCOPE, ReasonCode.NOT_VISIBLE}
    with pytest.raises(PermissionDeniedError) as seen:
        snap.require("ann", "accounts.update", U)
    assert not isinstance(seen.value, HiddenRecordError)
    assert seen.value.status == 403
