"""The demo districts' generated streets: the barriers drawn across them, no database access.

No OpenStreetMap extract of the demo districts is at hand, so ``load_demo`` generates a network
for each (``streets.generated``), labelled as demo data. What makes a district's walks differ from
straight lines is drawn here, as points placed by hand around the demo compounds and facilities
(``load_demo``'s seeded points; a test checks they stay where these lines assume):

- 长春市绿园区: a railway from west to east, crossed by three streets. The 铁西 compounds of
  康宁社区 (铁西一区, 铁西二区, 铁西三区, 机车小区, 工人新村), named for the line, lie south of
  it, and 康宁社区食堂 north of it (``facilities.demo_data`` puts it 300 m north of 铁西一区): a
  canteen within 500 m in a straight line, a walk of kilometres round by a crossing.
- 洛阳市洛龙区: 洛河 from west to east, crossed by four bridges.

The lines keep at least about 100 m from every demo compound and 60 m from every demo facility.
"""

from communities import demo_data as communities
from streets.generated import Barrier, Crossing

SEED = communities.SEED

RAILWAY = Barrier(
    kind="railway",
    name="铁路",
    points=(
        (43.8935, 125.150),
        (43.8930, 125.215),
        (43.8929, 125.234),
        (43.8927, 125.2424),
        (43.8914, 125.252),
        (43.8891, 125.263),
        (43.8893, 125.275),
        (43.8891, 125.292),
        (43.8880, 125.305),
        (43.8840, 125.325),
        (43.8800, 125.360),
    ),
    crossings=(
        Crossing("西立交", (43.8929, 125.228)),
        Crossing("中下穿通道", (43.8890, 125.268)),
        Crossing("东立交", (43.8886, 125.300)),
    ),
    half_width_m=15,
)

LUO_RIVER = Barrier(
    kind="river",
    name="洛河",
    points=(
        (34.6250, 112.330),
        (34.6255, 112.395),
        (34.6275, 112.405),
        (34.6248, 112.418),
        (34.6190, 112.435),
        (34.6130, 112.450),
        (34.6100, 112.460),
        (34.6135, 112.4725),
        (34.6165, 112.480),
        (34.6150, 112.490),
        (34.6120, 112.505),
        (34.6100, 112.560),
    ),
    crossings=(
        Crossing("洛河一桥", (34.6257, 112.398)),
        Crossing("洛河二桥", (34.6215, 112.428)),
        Crossing("洛河三桥", (34.6115, 112.465)),
        Crossing("洛河四桥", (34.6137, 112.497)),
    ),
    half_width_m=70,
)

# District code → what its generated streets cannot cross but at the crossings.
BARRIERS: dict[str, tuple[Barrier, ...]] = {"220106": (RAILWAY,), "410311": (LUO_RIVER,)}

# The compounds the railway keeps apart from 康宁社区食堂 (and the test checks).
RAILWAY_SOUTH = ("铁西一区", "铁西二区", "铁西三区", "机车小区", "工人新村")
