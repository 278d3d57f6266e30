"""Public report cards (issue 26): how each area and agency answers its residents.

- `domain`: pure figures (a case's facts from its events; every card from many facts).
- `tables`: `report_case_facts` (a projection: one row per case, written by every case
  writer in its own transaction through `projections.project`, rebuilt with the other
  read models by `rebuild-projections`) and `report_cards` (the published figures of
  every area, recomputed from the facts by the deadline worker every few minutes).
- `store`: the SQL side of both; `charts`: server-rendered SVG; `pages`: `/rapor`.

Why facts kept by the consumer plus cards refreshed on a schedule, and not one or the
other: medians and "open now / overdue" and a 26-week window depend on the clock and
cannot be kept up incrementally, so a card per event would mean re-reading a whole
province in every consumer poll; and a PostgreSQL materialised view over `cases` and
`case_timeline` would put the figure definitions in SQL beside the Python ones the
tests check, and would block `rebuild-projections` from dropping the tables it swaps.
So the per-case facts follow each case in its writer's transaction (the same code
path as `cases`), and the cards are computed from them by the one pure function and
stored ready to serve: a page reads one row.
"""
