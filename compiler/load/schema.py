"""JSON Schema of the policy files and catalog snapshots, from the pydantic specs. Pure.

`clawpolicy schema` prints it for editors (yaml-language-server). The combined schema picks the
file kind by its distinguishing key (`tiers`, `team` or `environment`).
"""

from typing import Any

from .spec import CatalogSpec, EnvironmentFileSpec, TeamFileSpec, TiersFileSpec

KINDS: dict[str, Any] = {
    "tiers": TiersFileSpec,
    "team": TeamFileSpec,
    "environment": EnvironmentFileSpec,
    "catalog": CatalogSpec,
}
SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
# Which file a document is: environments may carry `tiers:` overrides, so a tiers file is one
# with `tiers` and without `environment`.
_KIND_TEST: dict[str, Any] = {
    "environment": {"required": ["environment"]},
    "team": {"required": ["team"]},
    "tiers": {"required": ["tiers"], "not": {"required": ["environment"]}},
}


def policy_schema(kind: str = "all") -> dict[str, Any]:
    """The schema of one kind of file, or of any policy file (`all`).

    Example:
        >>> policy_schema("team")["title"]
        'clawpolicy team file'
        >>> sorted(policy_schema()["$defs"])[:2]
        ['AgentSpec', 'ConstraintSpec']
    """
    if kind != "all":
        schema = KINDS[kind].model_json_schema(by_alias=True)
        return {"$schema": SCHEMA_URI, **schema, "title": f"clawpolicy {kind} file"}
    defs: dict[str, Any] = {}
    branches = []
    for name in ("tiers", "team", "environment"):
        schema = KINDS[name].model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[KINDS[name].__name__] = schema
        branches.append(
            {
                "if": _KIND_TEST[name],
                "then": {"$ref": f"#/$defs/{KINDS[name].__name__}"},
            }
        )
    return {
        "$schema": SCHEMA_URI,
        "title": "clawpolicy policy file",
        "type": "object",
        "required": ["version"],
        "allOf": branches,
        "$defs": dict(sorted(defs.items())),
    }
