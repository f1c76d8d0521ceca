"""Street networks: the ways people walk, per district, from an OpenStreetMap extract.

What lives here: the stored network (``models``: a district's ``StreetNetwork`` with its nodes and
edges, and the source file's name, date and checksum), the reading of an extract (``osm``: plain
functions, no ORM), the storing of it (``loader``, one transaction) and ``manage.py
import_streets``. Walking distances along these streets are the coverage engine's to compute
(``reports.coverage``).

What it may import: ``portal`` and ``communities`` (a network belongs to a district). Facilities,
courses, reports and the pages stand above it.
"""
