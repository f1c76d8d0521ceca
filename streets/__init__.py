"""Street networks: the ways people walk, per district, from an OpenStreetMap extract.

What lives here: the stored network (``models``: a district's ``StreetNetwork`` with its nodes and
edges, and the source file's name, date and checksum), the reading of an extract (``osm``: plain
functions, no ORM), the storing of it (``loader``, one transaction), ``manage.py
import_streets`` and the back office (``admin``: the city administrator imports an extract and
removes networks, staff read their own district's). Districts without an extract (the demo's,
the benchmark city) get a generated network instead, labelled as demo data, and their compounds
gates on it (``generated``: plain functions, no ORM; ``demo_data``: the demo districts' railway
and river; stored by ``loader.load_generated``). Walking distances along these streets are the
coverage engine's to compute (``reports.coverage``).

What it may import: ``portal`` and ``communities`` (a network belongs to a district). Facilities,
courses, reports and the pages stand above it.
"""
