"""Custom check of `just test-fuzz` (run.sh loads this file through SCHEMATHESIS_HOOKS).

A project-family write may be refused for a reason that depends on what is stored, which no
JSON Schema can state: the field `setCustomField` names must exist in the group's type, a
referenced type must exist, keys and field names are unique, a type in use keeps its fields
(the contract answers each with 400 and its own code, as commercetools does); enum keys are
unique within a field type, which JSON Schema cannot state across the items of an array either. schemathesis.toml
therefore lets `positive_data_acceptance` accept 400 on those writes, and this check takes its
place there: a schema-valid request may be refused with 400 only with one of these codes.
A shape error (InvalidJsonInput, InvalidInput) on a schema-valid request still fails.
"""

import json

import schemathesis

STATE_CODES = {
    "InvalidOperation",  # e.g. setCustomField on a group without a type, an unknown field name,
    # a type whose resourceTypeIds lack customer-group, a field name or enum key listed twice
    "ReferencedResourceNotFound",  # a type id or key that does not exist
    "DuplicateField",  # a key, field name or enum key already taken
    "ReferenceExists",  # a field definition still used by a group
    "InvalidField",  # a custom field value that does not fit the field's type
    "RequiredField",  # a required custom field left out for the type
    "MaxResourceLimitExceeded",  # the project's group limit
}


def _is_project_write(case) -> bool:
    return case.operation.method.upper() == "POST" and case.operation.path.startswith("/{projectKey}/")


@schemathesis.check
def project_state_refusals_only(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if not _is_project_write(case) or response.status_code != 400:
        return None
    try:
        codes = {error.get("code") for error in json.loads(response.text).get("errors", [])}
    except (ValueError, AttributeError):
        codes = set()
    unexpected = codes - STATE_CODES
    if not codes or unexpected:
        raise AssertionError(
            "A schema-valid project-family write was refused for its shape "
            f"(codes {sorted(c for c in codes if c)}), not for the stored state: {response.text[:300]}"
        )
    return None
