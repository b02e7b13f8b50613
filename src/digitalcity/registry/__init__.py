"""Base registries: population and legal-entity golden records from many departments.

DESIGN.md "registry"; docs/registry.md. Modules other parts call:

- `imports.import_file(source=, path=, actor=, data_date=, progress=)` and
  `imports.import_rows(source=, rows=, …)`: whole-or-nothing batches (validation,
  versioned source records, golden records); `imports.batch_row_errors(batch)` for the
  Excel report.
- `golden.apply_record(record, *, cause)`, `golden.rebuild_person(person, *, cause)`,
  `golden.rebuild_organization(org, *, cause)`, `golden.rebuild(entity=, keys=, cause=)`:
  the golden-record rules (provenance, versions, events, conflicts); `golden.lock_entity`
  serialises writers of one entity.
- `queries.person_by_id_number`, `queries.organization_by_code`, `queries.exists`,
  `queries.search_people`, `queries.person_as_of`, `queries.organization_as_of`,
  `queries.person_card` / `queries.reveal_person`: the internal query API.
- `conflicts.conflict_confirm` / `conflicts.conflict_correct` / `conflicts.conflict_counts`:
  the cross-check queue.
"""
