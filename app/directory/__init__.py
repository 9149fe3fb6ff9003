"""The directory: the SCIM resource model and its repository (schema, validation, the search index, filter→SQL,
queries and projection), below the policy, the targets, erasure and the SCIM protocol adapter (app/scim), which
all build on it (issue 15 §1, docs/decisions/0026-directory-package.md)."""
