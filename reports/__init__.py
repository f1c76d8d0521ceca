"""The officials' room: coverage of the 15-minute living circle, and what to do about its gaps.

What lives here:

- ``coverage``: the coverage engine, plain functions and arrays (NumPy, SciPy's k-d trees), no
  ORM, request or template: who reaches which service within its walking distance, the gaps, the
  greedy choice of idle rooms. Its loader (``coverage.load``) is the one place that reads the
  database for it.
- ``report_data``: an area's figures (a district, a subdistrict, the city) gathered once and kept
  current after edits, with each community's courses and wishes beside them.
- ``views`` and ``urls``: the report pages under ``/reports/`` (overview, matrix, gaps, sites, a
  community), scoped through ``communities.access``.
- ``report_export``: the workbook and CSV tables; ``area_map``: the server-drawn SVG area maps.

What it may import: everything below it (``portal``, ``communities``, ``facilities``,
``residents``, ``courses``, ``wishes``). Nothing below imports it; the project's composite pages
(``portal.pages``) and ``opendata`` sit beside it at the top.
"""
