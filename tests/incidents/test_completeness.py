"""What a record still lacks before the DPO notifies: each Art. 33(3) item and each authority-form field."""

from __future__ import annotations

from app.incidents.completeness import still_to_record
from app.incidents.register import IncidentRegister
from app.store.vault import Vault
from tests.incidents.test_register import FRIDAY_9, FakeClock


def test_each_field_leaves_the_list_once_recorded(vault: Vault) -> None:
    register = IncidentRegister(vault, FakeClock(FRIDAY_9))
    incident = register.open_incident("Lost laptop", "dpo")
    assert still_to_record(register.get(incident).fields) == [
        "nature of the breach (Art. 33(3)(a))", "categories of data subjects (Art. 33(3)(a))",
        "categories of data (Art. 33(3)(a))", "approximate number of subjects (Art. 33(3)(a))",
        "approximate number of records (Art. 33(3)(a))", "DPO contact (Art. 33(3)(b))",
        "likely consequences (Art. 33(3)(c))", "measures taken or proposed (Art. 33(3)(d))",
        "breach type", "cause", "how it was discovered", "special-category involvement", "supervisory authority",
        "cross-border or not", "other authorities told", "processor involvement",
    ]  # fmt: skip
    view = register.update(incident, "dpo", nature="stolen from a car", breach_types=["availability"],
                           cross_border=True, special_categories="unknown", approx_subjects=0)  # fmt: skip
    missing = still_to_record(view.fields)
    assert "lead authority" in missing  # cross-border: the one-stop-shop's lead authority is now asked for
    for done in ("nature of the breach (Art. 33(3)(a))", "breach type", "cross-border or not",
                 "special-category involvement", "approximate number of subjects (Art. 33(3)(a))"):  # fmt: skip
        assert done not in missing
    view = register.update(incident, "dpo", cross_border=False)
    assert "lead authority" not in still_to_record(view.fields)
