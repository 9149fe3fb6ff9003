"""The schema catalogue is read from resources/schemas/scim-schemas.json so that reading a policy does not import
scim2-models (issue 15 §5: a read-only command starts in under 0.6 s). The file must say what the installed
scim2-models says, or the policy loader and the resource validator would disagree about an attribute."""

from __future__ import annotations

import json

from app.directory.schema import SNAPSHOT, AttrDef, models_schemas, schema_for

REWRITE = (
    "python -c \"import json; from app.directory.schema import SNAPSHOT, models_schemas; SNAPSHOT.write_text("
    "json.dumps(models_schemas(), indent=1, ensure_ascii=False, sort_keys=True) + '\\n', encoding='utf-8')\""
)


def test_the_snapshot_is_what_the_installed_scim2_models_writes() -> None:
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == models_schemas(), f"write it again: {REWRITE}"


def test_the_catalogue_is_built_from_every_attribute_of_the_three_schemas() -> None:
    live = models_schemas()
    types = (("User", ("core:2.0:User", "extension:enterprise:2.0:User")), ("Group", ("core:2.0:Group",)))
    for resource_type, urns in types:
        schema = schema_for(resource_type)
        for short in urns:
            urn = f"urn:ietf:params:scim:schemas:{short}"
            expected = {a["name"].lower(): AttrDef.from_schema(a) for a in live[urn]["attributes"]}
            assert schema.attributes[urn] == expected
    assert schema_for("User").resolve(None, "emails", "value") is not None
    assert schema_for("User").resolve(None, "shoeSize", None) is None
