"""The schema catalogue is read from resources/schemas/scim-schemas.json so that reading a policy does not import
scim2-models (issue 15 §5: a read-only command starts in under 0.6 s). The file must say what the installed
scim2-models says, or the policy loader and the resource validator would disagree about an attribute."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.directory.schema import SNAPSHOT, AttrDef, models_schemas, schema_for

ROOT = Path(__file__).resolve().parents[2]

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


def test_special_use_domains_are_accepted_from_the_first_resource_validated() -> None:
    """email-validator's special-use domains (okta.local, *.test) are lifted where the models are first loaded,
    not when the schema module is imported (which no longer loads them): a fresh process proves the order."""
    probe = (
        "from scim2_models import Context\n"
        "from app.directory.validation import validate_resource\n"
        "body = {'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'], 'userName': 'ada',"
        " 'emails': [{'value': 'ada@okta.local'}, {'value': 'ada@staging.test'}]}\n"
        "user = validate_resource('User', body, Context.RESOURCE_CREATION_REQUEST)\n"
        "print(' '.join(str(e.value) for e in user.emails))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ada@okta.local", "ada@staging.test"]
